/**
 * Configuration: environment variables and an optional YAML or JSON file, parsed once into a frozen,
 * typed object. Every problem is collected and reported at once (ConfigError); main.ts turns that
 * into exit code 2. This module never reads process.env itself: the caller passes the environment.
 */
import { parse as parseYaml } from 'yaml';
import { ConfigError, type ConfigIssue } from './errors.ts';
import { MASKED, emptyHint, readSetting } from './read-setting.ts';
import { CONFIG_FILE_ENV, FILE_SECTIONS, SETTINGS, type AuthMode, type LimitStore, type Setting, type SettingKey, type Settings } from './settings.ts';
import { unknownFileKeys, unknownVariables } from './unknown-settings.ts';
import { SECTION_PARSERS, type Sections } from './sections.ts';
import { resolveAlgorithms } from './auth/jwt-algorithms.ts';
import { parseRedisUrl } from './redis/url.ts';

export type ResolvedAuthMode = AuthMode | 'none';

export interface Config extends Settings {
  /** The auth mode in force: the configured one, or derived from which credentials are set. */
  readonly auth: ResolvedAuthMode;
  /** Whether any JWT verification source is configured. */
  readonly jwtEnabled: boolean;
  /** Whether API keys come from the variable or a file. */
  readonly apiKeyEnabled: boolean;
  /** The rate-limit store in force: the configured one, or redis when a Redis URL is set. */
  readonly limitStore: LimitStore;
  /** Structured config-file sections (per-group tools, per-tool limits, DLP patterns). */
  readonly sections: Sections;
}

export interface LoadOptions {
  /** The environment, usually process.env. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads a file as UTF-8; throws when it cannot. Injected so tests need no files. */
  readonly readFile: (path: string) => string;
}

/** Walk a dotted path in a plain object. */
function lookup(obj: Record<string, unknown>, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function readConfigFile(path: string, readFile: LoadOptions['readFile'], issues: ConfigIssue[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    issues.push({ setting: CONFIG_FILE_ENV, value: JSON.stringify(path), expected: `a readable file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
    return {};
  }
  let doc: unknown;
  try {
    // YAML 1.2 is a superset of JSON, so one parser reads both forms.
    doc = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    issues.push({ setting: CONFIG_FILE_ENV, value: JSON.stringify(path), expected: `valid YAML or JSON (${(err as Error).message.split('\n')[0]})` });
    return {};
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    issues.push({ setting: CONFIG_FILE_ENV, value: JSON.stringify(path), expected: 'a mapping of settings at the top level' });
    return {};
  }
  return doc as Record<string, unknown>;
}

/**
 * Parse the configuration. Returns a deep-frozen Config or throws one ConfigError naming every
 * bad setting, its value and what was expected.
 */
export function loadConfig(opts: LoadOptions): Config {
  // Unknown names first, so a typo is reported beside whatever it left unset.
  const issues: ConfigIssue[] = unknownVariables(opts.env);
  const rawPath = opts.env[CONFIG_FILE_ENV];
  const filePath = rawPath?.trim();
  if (rawPath !== undefined && filePath === '') issues.push({ setting: CONFIG_FILE_ENV, value: 'empty', expected: `a file path${emptyHint(undefined)}` });
  const file = filePath ? readConfigFile(filePath, opts.readFile, issues) : {};
  if (filePath) issues.push(...unknownFileKeys(file, filePath));

  const values: Record<string, unknown> = {};
  for (const [key, setting] of Object.entries(SETTINGS) as [SettingKey, Setting<unknown>][]) {
    // A variable that is set wins over the file, even when empty: empty is a value, not "unset"
    // (see read-setting.ts). Only an absent variable or key means "unset".
    const fromEnv = opts.env[setting.env];
    const useEnv = fromEnv !== undefined;
    const raw = useEnv ? fromEnv : lookup(file, setting.file);
    const where = useEnv || !filePath ? setting.env : `${setting.file} (in ${filePath})`;
    values[key] = readSetting(setting, raw, where, issues);
  }
  const s = values as unknown as Settings;

  const sections = {} as Record<string, unknown>;
  for (const name of FILE_SECTIONS) {
    const parsed = SECTION_PARSERS[name](lookup(file, name), filePath ? `${name} (in ${filePath})` : name);
    issues.push(...parsed.issues);
    sections[name] = parsed.value;
  }

  const derived = crossCheck(s, issues, opts);
  if (issues.length > 0) throw new ConfigError(issues);
  return deepFreeze({ ...s, ...derived, sections: sections as unknown as Sections });
}

/** Rules that involve more than one setting. */
function crossCheck(s: Settings, issues: ConfigIssue[], opts: LoadOptions): { auth: ResolvedAuthMode; jwtEnabled: boolean; apiKeyEnabled: boolean; limitStore: LimitStore } {
  const apiKeyEnabled = (s.apiKeys?.length ?? 0) > 0 || s.apiKeyFile !== undefined;
  const jwtSources = [s.jwtIssuer, s.jwtJwksUrl, s.jwtSecret].filter((v) => v !== undefined).length;
  const jwtEnabled = jwtSources > 0;

  if (s.apiKeyFile !== undefined) {
    try {
      opts.readFile(s.apiKeyFile);
    } catch (err) {
      issues.push({ setting: SETTINGS.apiKeyFile.env, value: JSON.stringify(s.apiKeyFile), expected: `a readable file of keys (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
    }
  }
  if (s.jwtSecret !== undefined && s.jwtJwksUrl !== undefined) {
    // Two key sources would leave it unclear which one verifies a token: ask for one.
    issues.push({ setting: SETTINGS.jwtSecret.env, value: MASKED, expected: `unset when ${SETTINGS.jwtJwksUrl.env} is set (one key source)` });
  }
  if (jwtEnabled) {
    try {
      resolveAlgorithms(s);
    } catch (err) {
      if (err instanceof ConfigError) issues.push(...err.issues);
      else throw err;
    }
    if (s.jwtAudience === undefined) issues.push({ setting: SETTINGS.jwtAudience.env, value: 'unset', expected: `${SETTINGS.jwtAudience.expected} (required whenever JWT is on)` });
    if (s.resourceUrl === undefined) issues.push({ setting: SETTINGS.resourceUrl.env, value: 'unset', expected: `${SETTINGS.resourceUrl.expected} (required whenever JWT is on)` });
    if (s.jwtIssuer === undefined && s.jwtSecret === undefined) {
      // A bare JWKS URL says nothing about who issues the tokens; the issuer check is mandatory.
      issues.push({ setting: SETTINGS.jwtIssuer.env, value: 'unset', expected: `${SETTINGS.jwtIssuer.expected} (required with ${SETTINGS.jwtJwksUrl.env}: tokens' iss is always checked)` });
    }
  } else {
    for (const k of ['jwtAudience', 'jwtRequiredGroups', 'jwtRequiredScopes'] as const) {
      const v = s[k];
      if (v !== undefined && v.length > 0) issues.push({ setting: SETTINGS[k].env, value: JSON.stringify(v.join(',')), expected: `unset unless ${SETTINGS.jwtIssuer.env}, ${SETTINGS.jwtJwksUrl.env} or ${SETTINGS.jwtSecret.env} is set` });
    }
  }

  let auth: ResolvedAuthMode;
  if (s.authMode === undefined) auth = apiKeyEnabled && jwtEnabled ? 'any' : apiKeyEnabled ? 'apikey' : jwtEnabled ? 'jwt' : 'none';
  else {
    auth = s.authMode;
    const needKey = s.authMode === 'apikey' || s.authMode === 'any';
    const needJwt = s.authMode === 'jwt' || s.authMode === 'any';
    if (needKey && !apiKeyEnabled) issues.push({ setting: SETTINGS.authMode.env, value: JSON.stringify(s.authMode), expected: `a mode whose credentials are configured (${SETTINGS.apiKeys.env} or ${SETTINGS.apiKeyFile.env} is unset)` });
    if (needJwt && !jwtEnabled) issues.push({ setting: SETTINGS.authMode.env, value: JSON.stringify(s.authMode), expected: `a mode whose credentials are configured (no ${SETTINGS.jwtIssuer.env}, ${SETTINGS.jwtJwksUrl.env} or ${SETTINGS.jwtSecret.env})` });
  }

  if (s.rateLimitBurst !== undefined && s.rateLimitPerMinute === undefined) {
    issues.push({ setting: SETTINGS.rateLimitBurst.env, value: String(s.rateLimitBurst), expected: `unset unless ${SETTINGS.rateLimitPerMinute.env} is set` });
  }
  if (s.listenPort !== 0 && s.listenPort === s.adminPort && s.listenHost === s.adminHost) {
    issues.push({ setting: SETTINGS.adminPort.env, value: String(s.adminPort), expected: `a port other than ${SETTINGS.listenPort.env} (${s.listenPort})` });
  }
  const limitStore = checkLimitStore(s, issues, opts);
  return { auth, jwtEnabled, apiKeyEnabled, limitStore };
}

/** The store in force: MCP_AUTH_RATE_LIMIT_STORE, else redis exactly when a Redis URL is set. */
export function limitStoreOf(s: { readonly rateLimitStore: LimitStore | undefined; readonly redisUrl: string | undefined }): LimitStore {
  return s.rateLimitStore ?? (s.redisUrl !== undefined ? 'redis' : 'memory');
}

/**
 * The rate-limit store. A Redis URL alone selects Redis (a cluster default can turn it on for
 * every pod; MCP_AUTH_RATE_LIMIT_STORE=memory opts one out). The other Redis settings are checked
 * only when Redis is in use, so cluster defaults never break a pod that does not use it.
 */
function checkLimitStore(s: Settings, issues: ConfigIssue[], opts: LoadOptions): LimitStore {
  const store = limitStoreOf(s);
  if (store !== 'redis') return store;
  if (s.redisUrl === undefined) {
    issues.push({ setting: SETTINGS.rateLimitStore.env, value: '"redis"', expected: `"memory" unless ${SETTINGS.redisUrl.env} is set` });
    return store;
  }
  for (const k of ['redisPasswordFile', 'redisCaFile'] as const) {
    const path = s[k];
    if (path === undefined) continue;
    try {
      opts.readFile(path);
    } catch (err) {
      issues.push({ setting: SETTINGS[k].env, value: JSON.stringify(path), expected: `a readable file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` });
    }
  }
  if (s.redisCaFile !== undefined && parseRedisUrl(s.redisUrl)?.tls !== true) {
    issues.push({ setting: SETTINGS.redisCaFile.env, value: JSON.stringify(s.redisCaFile), expected: `unset unless ${SETTINGS.redisUrl.env} is a rediss:// (TLS) URL` });
  }
  return store;
}

/** Freeze an object and everything it holds (config objects are read, never changed). */
export function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
