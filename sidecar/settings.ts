/**
 * The sidecar's settings table: the one contract between the sidecar and the webhook.
 *
 * Each setting has an environment variable, a dotted path in the optional config file, a type
 * (a parser that says what it expects), a default and a line of documentation. The sidecar's
 * config parser (config.ts) and the webhook's renderer both import this table, so an annotation
 * can never produce a variable the sidecar does not know, and a new setting is added here only.
 *
 * Settings that only the config file can hold because they are structured (per-group tool policy,
 * per-tool rate limits, custom DLP patterns) are parsed by their own modules; config.ts wires them.
 */

import { parseCidr } from './limit/ip.ts';
import { REDIS_URL_EXPECTED, parseRedisUrl } from './redis/url.ts';

/**
 * The kind of value a setting takes, with its bounds, for tools that check values before the
 * sidecar does (the chart's values.schema.json is generated from it by scripts/values-schema.ts).
 */
export type Shape =
  | { readonly kind: 'int'; readonly min: number; readonly max: number }
  | { readonly kind: 'port' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'text' }
  | { readonly kind: 'url' }
  | { readonly kind: 'list'; readonly nonEmpty: boolean };

/** Result of parsing one raw value: the typed value, or a failure (the setting says what it expects). */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly detail?: string };

export interface Setting<T, Always extends boolean = boolean, S extends Shape = Shape> {
  /** True when the setting always has a value (a default, or required). */
  readonly always: Always;
  /** Environment variable, e.g. `MCP_AUTH_UPSTREAM_URL`. */
  readonly env: string;
  /** Dotted path in the config file, e.g. `upstream.url`. */
  readonly file: string;
  /** What a valid value looks like, for error messages: "a port number from 0 to 65535". */
  readonly expected: string;
  /** The kind of value and its bounds (what parse() checks beyond it is left to parse()). */
  readonly shape: S;
  readonly doc: string;
  /** Value when unset; `undefined` means "unset" (the feature it controls is off). */
  readonly default: T | undefined;
  readonly required: boolean;
  /** Never print the value (keys, secrets). */
  readonly secret: boolean;
  /** A raw value as error messages may print it (a URL's password masked); identity by default. */
  display(raw: string): string;
  /** Parse a raw value from the environment (a string) or the config file (any YAML value). */
  parse(raw: unknown): Parsed<T>;
  /** Render a value as the string an environment variable would carry. */
  format(value: T): string;
}

interface Common<T> {
  env: string;
  file: string;
  doc: string;
  default?: T;
  required?: boolean;
  secret?: boolean;
  display?: (raw: string) => string;
}

/** Whether a setting built from options `C` always has a value. */
type HasValue<C> = C extends { default: unknown } ? true : C extends { required: true } ? true : false;

function make<T, C extends Common<T>, S extends Shape>(c: C, shape: S, expected: string, parse: (raw: unknown) => Parsed<T>, format: (v: T) => string): Setting<T, HasValue<C>, S> {
  return Object.freeze({
    always: (c.default !== undefined || c.required === true) as HasValue<C>,
    env: c.env,
    file: c.file,
    doc: c.doc,
    expected,
    shape: Object.freeze(shape),
    default: c.default,
    required: c.required ?? false,
    secret: c.secret ?? false,
    display: c.display ?? ((raw: string) => raw),
    parse,
    format,
  });
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (detail?: string): Parsed<never> => (detail === undefined ? { ok: false } : { ok: false, detail });

function asText(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw.trim();
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  if (typeof raw === 'boolean') return String(raw);
  return undefined;
}

/** Comma-separated in env; a YAML list or a comma-separated string in the file. Empty items dropped. */
function asList(raw: unknown): string[] | undefined {
  if (Array.isArray(raw)) {
    const out: string[] = [];
    for (const item of raw) {
      const t = asText(item);
      if (t === undefined) return undefined;
      if (t !== '') out.push(t);
    }
    return out;
  }
  const t = asText(raw);
  if (t === undefined) return undefined;
  return t.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export function text<const C extends Common<string> & { pattern?: RegExp; expected?: string; minBytes?: number }>(c: C): Setting<string, HasValue<C>> {
  const expected = c.expected ?? 'a non-empty string';
  return make(c, { kind: 'text' }, expected, (raw) => {
    const t = asText(raw);
    if (t === undefined || t === '') return bad();
    if (c.pattern && !c.pattern.test(t)) return bad();
    if (c.minBytes !== undefined && Buffer.byteLength(t) < c.minBytes) return bad();
    return ok(t);
  }, (v) => v);
}

export function int<const C extends Common<number> & { min: number; max: number; unit?: string }>(c: C): Setting<number, HasValue<C>, Extract<Shape, { kind: 'int' }>> {
  const expected = `a whole number from ${c.min} to ${c.max}${c.unit ? ` (${c.unit})` : ''}`;
  return make(c, { kind: 'int' as const, min: c.min, max: c.max }, expected, (raw) => {
    const t = asText(raw);
    if (t === undefined || !/^-?\d+$/.test(t)) return bad();
    const n = Number(t);
    if (!Number.isSafeInteger(n) || n < c.min || n > c.max) return bad();
    return ok(n);
  }, String);
}

export function port<const C extends Common<number>>(c: C): Setting<number, HasValue<C>> {
  const expected = 'a TCP port from 0 to 65535 (0 picks a free one)';
  return make(c, { kind: 'port' }, expected, (raw) => {
    const t = asText(raw);
    const n = t !== undefined && /^\d{1,5}$/.test(t) ? Number(t) : -1;
    return n >= 0 && n <= 65535 ? ok(n) : bad();
  }, String);
}

export function bool<const C extends Common<boolean>>(c: C): Setting<boolean, HasValue<C>> {
  return make(c, { kind: 'bool' }, '"true" or "false"', (raw) => {
    if (typeof raw === 'boolean') return ok(raw);
    const t = asText(raw)?.toLowerCase();
    if (t === 'true' || t === '1' || t === 'yes') return ok(true);
    if (t === 'false' || t === '0' || t === 'no') return ok(false);
    return bad();
  }, String);
}

export function oneOf<const V extends string, const C extends Common<V> & { values: readonly V[] } = Common<V> & { values: readonly V[] }>(c: C & { values: readonly V[] }): Setting<V, HasValue<C>> {
  return make(c, { kind: 'enum', values: [...c.values] }, `one of ${c.values.map((v) => `"${v}"`).join(', ')}`, (raw) => {
    const t = asText(raw)?.toLowerCase();
    return t !== undefined && (c.values as readonly string[]).includes(t) ? ok(t as V) : bad();
  }, (v) => v);
}

/** An absolute http(s) URL. `pathless` forbids anything after the authority (an upstream origin). */
export function url<const C extends Common<string> & { https?: boolean; pathless?: boolean }>(c: C): Setting<string, HasValue<C>> {
  const schemes = c.https ? ['https:'] : ['http:', 'https:'];
  const expected = `an absolute ${c.https ? 'https' : 'http or https'} URL${c.pathless ? ' with no path, query or fragment' : ''}`;
  return make(c, { kind: 'url' }, expected, (raw) => {
    const t = asText(raw);
    if (!t) return bad();
    let u: URL;
    try {
      u = new URL(t);
    } catch {
      return bad();
    }
    if (!schemes.includes(u.protocol) || u.username || u.password || u.hash) return bad();
    if (c.pathless && ((u.pathname !== '/' && u.pathname !== '') || u.search)) return bad();
    return ok(c.pathless ? u.origin : t);
  }, (v) => v);
}

/** A URL with any password in it masked, so an error message never repeats one. */
function maskUserinfo(raw: string): string {
  return raw.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/, '$1:<redacted>@');
}

/** A `redis://` or `rediss://` URL without a password (redis/url.ts). */
export function redisUrl<const C extends Common<string>>(c: C): Setting<string, HasValue<C>> {
  return make({ display: maskUserinfo, ...c }, { kind: 'url' }, REDIS_URL_EXPECTED, (raw) => {
    const t = asText(raw);
    return t && parseRedisUrl(t) !== undefined ? ok(t) : bad();
  }, (v) => v);
}

/** A list whose every item passes `item`; the whole list fails if one item does. */
export function list<const C extends Common<readonly string[]> & { item?: (s: string) => boolean; expected: string; nonEmpty?: boolean }>(c: C): Setting<readonly string[], HasValue<C>> {
  return make(c, { kind: 'list', nonEmpty: c.nonEmpty === true }, c.expected, (raw) => {
    const items = asList(raw);
    if (items === undefined) return bad();
    if (c.nonEmpty && items.length === 0) return bad();
    const wrong = c.item ? items.filter((s) => !c.item!(s)) : [];
    if (wrong.length > 0) return bad(`not valid: ${wrong.map((w) => JSON.stringify(w)).join(', ')}`);
    return ok(Object.freeze(items));
  }, (v) => v.join(','));
}

// ---- item validators shared by several settings ----

/** RFC 9110 token: a header field name. */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A canonical absolute path: no dot-segments, no empty segments, no encoded or odd bytes. */
export const CANONICAL_PATH = /^\/(?:[A-Za-z0-9\-._~!$&'()*+,=:@]+(?:\/[A-Za-z0-9\-._~!$&'()*+,=:@]+)*)?$/;
/** A tool name as MCP names them (letters, digits, `_`, `-`, `.`, `/`), or `*` in lists. */
export const TOOL_NAME = /^[A-Za-z0-9_\-./]{1,128}$/;

function isCanonicalPath(p: string): boolean {
  return CANONICAL_PATH.test(p) && !p.split('/').some((s) => s === '.' || s === '..');
}

function isOrigin(o: string): boolean {
  try {
    const u = new URL(o);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === o;
  } catch {
    return false;
  }
}

/** IPv4 or IPv6 CIDR (or a bare address, meaning a single host), by the rule the proxy matcher uses. */
export function isCidr(s: string): boolean {
  return parseCidr(s) !== undefined;
}

export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'HS256', 'HS384', 'HS512'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const AUTH_MODES = ['apikey', 'jwt', 'any'] as const;
export const DLP_MODES = ['redact', 'block', 'off'] as const;
export const LIMIT_STORES = ['memory', 'redis'] as const;
/** MCP_AUTH_RATE_LIMIT_REDIS_FAILURE; limit/failover-store.ts derives its FailureMode from this list. */
export const REDIS_FAILURE_MODES = ['local', 'open', 'closed'] as const;

export type AuthMode = (typeof AUTH_MODES)[number];
export type DlpMode = (typeof DLP_MODES)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LimitStore = (typeof LIMIT_STORES)[number];

/** The table. Order is the order of the documentation and of error messages. */
export const SETTINGS = {
  // ---- the data path ----
  upstreamUrl: url({ env: 'MCP_AUTH_UPSTREAM_URL', file: 'upstream.url', required: true, pathless: true, doc: 'The MCP container, e.g. http://127.0.0.1:3000.' }),
  upstreamTimeoutMs: int({ env: 'MCP_AUTH_UPSTREAM_TIMEOUT_MS', file: 'upstream.timeoutMs', default: 30_000, min: 1, max: 3_600_000, unit: 'milliseconds', doc: "Wait for the upstream's response headers, for every request but tool calls; 504 after." }),
  upstreamToolTimeoutMs: int({ env: 'MCP_AUTH_UPSTREAM_TOOL_TIMEOUT_MS', file: 'upstream.toolTimeoutMs', default: 900_000, min: 1, max: 86_400_000, unit: 'milliseconds', doc: 'Wait for the response headers of a POST holding a tools/call; servers in JSON response mode send them only when the tool is done. 504 after.' }),
  upstreamMaxRequests: int({ env: 'MCP_AUTH_UPSTREAM_MAX_REQUESTS', file: 'upstream.maxRequests', default: 256, min: 1, max: 65_536, unit: 'requests', doc: 'Ordinary requests in flight to the upstream at once; more get 503 with Retry-After at once, and /readyz fails while full.' }),
  upstreamMaxStreams: int({ env: 'MCP_AUTH_UPSTREAM_MAX_STREAMS', file: 'upstream.maxStreams', default: 1024, min: 1, max: 65_536, unit: 'streams', doc: 'Long-lived streams (GET streams, subscriptions/listen) open to the upstream at once, counted apart so they never starve ordinary requests; more get 503.' }),
  listenHost: text({ env: 'MCP_AUTH_LISTEN_HOST', file: 'listen.host', default: '0.0.0.0', expected: 'an IP address or host name', pattern: /^[A-Za-z0-9.:\-[\]]+$/, doc: 'Public listen address.' }),
  listenPort: port({ env: 'MCP_AUTH_LISTEN_PORT', file: 'listen.port', default: 8080, doc: 'Public listen port.' }),
  adminHost: text({ env: 'MCP_AUTH_ADMIN_HOST', file: 'admin.host', default: '0.0.0.0', expected: 'an IP address or host name', pattern: /^[A-Za-z0-9.:\-[\]]+$/, doc: 'Admin listen address (/livez, /readyz, /metrics): probes and scrapes reach it on the pod IP.' }),
  adminPort: port({ env: 'MCP_AUTH_ADMIN_PORT', file: 'admin.port', default: 9901, doc: 'Admin listen port.' }),
  maxBodyBytes: int({ env: 'MCP_AUTH_MAX_BODY_BYTES', file: 'limits.maxBodyBytes', default: 4_194_304, min: 1, max: 1_073_741_824, unit: 'bytes', doc: 'Request body cap; 413 above it.' }),
  shutdownGraceMs: int({ env: 'MCP_AUTH_SHUTDOWN_GRACE_MS', file: 'shutdown.graceMs', default: 10_000, min: 0, max: 3_600_000, unit: 'milliseconds', doc: 'Drain deadline after SIGTERM.' }),
  logLevel: oneOf({ env: 'MCP_AUTH_LOG_LEVEL', file: 'log.level', default: 'info', values: LOG_LEVELS, doc: 'pino log level.' }),

  // ---- who may call ----
  authMode: oneOf({ env: 'MCP_AUTH_MODE', file: 'auth.mode', values: AUTH_MODES, doc: 'apikey, jwt, or any (either credential). Default: from what is configured.' }),
  apiKeys: list({ env: 'MCP_AUTH_KEY', file: 'auth.keys', secret: true, nonEmpty: true, expected: 'one or more API keys, comma-separated, without spaces or control characters', item: (k) => /^[\x21-\x7e]+$/.test(k) && !k.includes(','), doc: 'API keys; several, comma-separated, are all valid (rotation).' }),
  apiKeyFile: text({ env: 'MCP_AUTH_KEY_FILE', file: 'auth.keyFile', expected: 'a file path', doc: 'File of API keys, one a line; re-read when it changes (mounted Secrets update in place).' }),
  apiKeyHeader: text({ env: 'MCP_AUTH_HEADER', file: 'auth.header', default: 'X-API-Key', pattern: HEADER_NAME, expected: 'an HTTP header name', doc: 'Header that carries the API key; its name matches case-insensitively.' }),
  exemptPaths: list({ env: 'MCP_AUTH_EXEMPT_PATHS', file: 'auth.exemptPaths', default: ['/health', '/ready'], item: isCanonicalPath, expected: 'comma-separated canonical absolute paths such as /health (no dot-segments, no doubled slashes, no percent-encoding)', doc: 'Paths served without auth, for GET and HEAD, matched exactly on the canonical path.' }),
  allowedOrigins: list({ env: 'MCP_AUTH_ALLOWED_ORIGINS', file: 'auth.allowedOrigins', default: [], item: isOrigin, expected: 'comma-separated origins such as https://app.example.com (scheme, host and port only)', doc: 'Origins accepted, and answered with CORS for browser clients; a request with any other Origin gets 403 (DNS rebinding).' }),
  resourceUrl: url({ env: 'MCP_AUTH_RESOURCE_URL', file: 'auth.resourceUrl', doc: "This server's canonical URL (RFC 8707 / RFC 9728); required with JWT." }),
  forwardIdentity: bool({ env: 'MCP_AUTH_FORWARD_IDENTITY', file: 'auth.forwardIdentity', default: false, doc: 'Add X-MCP-Auth-Subject and X-MCP-Auth-Groups to upstream requests.' }),

  // ---- JWT ----
  jwtIssuer: url({ env: 'MCP_AUTH_JWT_ISSUER', file: 'jwt.issuer', doc: 'Issuer; keys found via /.well-known/openid-configuration.' }),
  jwtJwksUrl: url({ env: 'MCP_AUTH_JWT_JWKS_URL', file: 'jwt.jwksUrl', doc: 'JWKS URL, skipping discovery.' }),
  jwtSecret: text({ env: 'MCP_AUTH_JWT_SECRET', file: 'jwt.secret', secret: true, minBytes: 32, expected: 'a shared secret of at least 32 bytes', doc: 'HS256 shared secret (for deployments that use one).' }),
  jwtAudience: list({ env: 'MCP_AUTH_JWT_AUDIENCE', file: 'jwt.audience', nonEmpty: true, expected: 'one or more audiences, comma-separated', doc: 'Accepted audiences; required whenever JWT is on.' }),
  jwtAlgorithms: list({ env: 'MCP_AUTH_JWT_ALGORITHMS', file: 'jwt.algorithms', nonEmpty: true, item: (a) => (JWT_ALGORITHMS as readonly string[]).includes(a), expected: `comma-separated JWS algorithms from ${JWT_ALGORITHMS.join(', ')}`, doc: 'Accepted algorithms. Default RS256,PS256,ES256,EdDSA (HS256 with a secret).' }),
  jwtClockSkewSeconds: int({ env: 'MCP_AUTH_JWT_CLOCK_SKEW_SECONDS', file: 'jwt.clockSkewSeconds', default: 60, min: 0, max: 600, unit: 'seconds', doc: 'Tolerance on exp/nbf/iat.' }),
  jwtRequiredGroups: list({ env: 'MCP_AUTH_JWT_REQUIRED_GROUPS', file: 'jwt.requiredGroups', default: [], expected: 'comma-separated group names', doc: 'Any one of these groups is needed.' }),
  jwtGroupsClaim: text({ env: 'MCP_AUTH_JWT_GROUPS_CLAIM', file: 'jwt.groupsClaim', default: 'groups', pattern: /^[A-Za-z0-9_:\-/]+(\.[A-Za-z0-9_:\-/]+)*$/, expected: 'a claim name or a dotted path such as realm_access.roles', doc: 'Claim holding groups.' }),
  jwtRequiredScopes: list({ env: 'MCP_AUTH_JWT_REQUIRED_SCOPES', file: 'jwt.requiredScopes', default: [], item: (s) => /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s), expected: 'comma-separated scope tokens', doc: 'All of these scopes (from `scope` or `scp`) are needed.' }),
  jwtJwksTimeoutMs: int({ env: 'MCP_AUTH_JWT_JWKS_TIMEOUT_MS', file: 'jwt.jwksTimeoutMs', default: 5_000, min: 100, max: 60_000, unit: 'milliseconds', doc: 'Bound on a discovery or JWKS fetch; a slow IdP never holds a request longer.' }),
  jwtJwksCooldownMs: int({ env: 'MCP_AUTH_JWT_JWKS_COOLDOWN_MS', file: 'jwt.jwksCooldownMs', default: 30_000, min: 0, max: 3_600_000, unit: 'milliseconds', doc: 'Least time between two JWKS refetches caused by unknown kids.' }),
  jwtCacheMaxEntries: int({ env: 'MCP_AUTH_JWT_CACHE_MAX_ENTRIES', file: 'jwt.cacheMaxEntries', default: 10_000, min: 0, max: 1_000_000, unit: 'tokens; 0 turns the cache off', doc: 'Verified tokens remembered until they expire (LRU keyed by a hash).' }),

  // ---- tool policy ----
  allowTools: list({ env: 'MCP_AUTH_ALLOW_TOOLS', file: 'tools.allow', default: [], item: (t) => t === '*' || TOOL_NAME.test(t), expected: 'comma-separated tool names (or *)', doc: 'Tools anyone may call; empty means every tool not denied.' }),
  denyTools: list({ env: 'MCP_AUTH_DENY_TOOLS', file: 'tools.deny', default: [], item: (t) => TOOL_NAME.test(t), expected: 'comma-separated tool names', doc: 'Tools nobody may call; deny wins over allow.' }),

  // ---- rate limits ----
  rateLimitPerMinute: int({ env: 'MCP_AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE', file: 'rateLimit.requestsPerMinute', min: 1, max: 10_000_000, unit: 'requests per minute', doc: 'Per identity (API key id or JWT iss+sub). Unset: off.' }),
  rateLimitBurst: int({ env: 'MCP_AUTH_RATE_LIMIT_BURST_SIZE', file: 'rateLimit.burstSize', min: 1, max: 10_000_000, unit: 'requests', doc: 'Bucket capacity. Default a tenth of the per-minute rate, at least 1.' }),
  rateLimitPerIpPerMinute: int({ env: 'MCP_AUTH_RATE_LIMIT_PER_IP_PER_MINUTE', file: 'rateLimit.perIpPerMinute', min: 1, max: 10_000_000, unit: 'requests per minute', doc: 'Per client IP. Unset: off.' }),
  trustedProxies: list({ env: 'MCP_AUTH_TRUSTED_PROXIES', file: 'rateLimit.trustedProxies', default: [], item: isCidr, expected: 'comma-separated IPv4 or IPv6 CIDRs such as 10.0.0.0/8', doc: 'Peers whose X-Forwarded-For is believed.' }),
  rateLimitMaxKeys: int({ env: 'MCP_AUTH_RATE_LIMIT_MAX_KEYS', file: 'rateLimit.maxKeys', default: 100_000, min: 1, max: 1_000_000, unit: 'keys', doc: 'Bound on tracked keys per limit; each limit allocates 24 B a key plus its index (3.45 MB at 100,000).' }),
  maxStreamsPerIdentity: int({ env: 'MCP_AUTH_MAX_STREAMS_PER_IDENTITY', file: 'rateLimit.maxStreamsPerIdentity', min: 1, max: 100_000, unit: 'streams', doc: 'Concurrent long-lived streams per identity (GET event streams and subscriptions/listen; an SSE answer to one request is not one). Unset: off. Always per sidecar, also with Redis.' }),
  rateLimitStore: oneOf({ env: 'MCP_AUTH_RATE_LIMIT_STORE', file: 'rateLimit.store', values: LIMIT_STORES, doc: 'Where buckets live: memory (per sidecar) or redis (shared by every replica). Default: redis when a Redis URL is set.' }),
  redisUrl: redisUrl({ env: 'MCP_AUTH_RATE_LIMIT_REDIS_URL', file: 'rateLimit.redis.url', doc: 'The shared Redis, redis:// or rediss:// (TLS), e.g. redis://redis.infra:6379/0; never with a password.' }),
  redisPasswordFile: text({ env: 'MCP_AUTH_RATE_LIMIT_REDIS_PASSWORD_FILE', file: 'rateLimit.redis.passwordFile', expected: 'a file path', doc: 'File holding the Redis password (a mounted Secret); re-read at every reconnect.' }),
  redisCaFile: text({ env: 'MCP_AUTH_RATE_LIMIT_REDIS_CA_FILE', file: 'rateLimit.redis.caFile', expected: 'a file path', doc: "PEM CA certificates for rediss://, instead of Node's public CAs." }),
  redisPrefix: text({ env: 'MCP_AUTH_RATE_LIMIT_REDIS_PREFIX', file: 'rateLimit.redis.prefix', default: 'mcp-warden:', pattern: /^[A-Za-z0-9_:.\-/]{1,64}$/, expected: 'up to 64 letters, digits and _ : . - / (no braces: they would pick the Redis Cluster slot)', doc: 'Prefix of every Redis key; services that share a Redis but not their limits need different ones.' }),
  redisTimeoutMs: int({ env: 'MCP_AUTH_RATE_LIMIT_REDIS_TIMEOUT_MS', file: 'rateLimit.redis.timeoutMs', default: 50, min: 1, max: 5_000, unit: 'milliseconds', doc: 'Longest wait for one Redis decision; then the failure mode decides, and Redis is skipped until a background probe succeeds.' }),
  redisFailure: oneOf({ env: 'MCP_AUTH_RATE_LIMIT_REDIS_FAILURE', file: 'rateLimit.redis.failure', default: 'local', values: REDIS_FAILURE_MODES, doc: 'While Redis cannot answer: local (per-sidecar buckets), open (no limit) or closed (503 with Retry-After).' }),

  // ---- DLP ----
  dlpMode: oneOf({ env: 'MCP_AUTH_DLP_MODE', file: 'dlp.mode', default: 'redact', values: DLP_MODES, doc: 'redact, block (the response is replaced by an error) or off.' }),
  dlpRequests: bool({ env: 'MCP_AUTH_DLP_REQUESTS', file: 'dlp.requests', default: false, doc: 'Scan request bodies too, so secrets in tool arguments never reach the MCP server.' }),
} as const;

export type SettingKey = keyof typeof SETTINGS;
type ValueOf<S> = S extends Setting<infer T, true> ? T : S extends Setting<infer T, false> ? T | undefined : never;

/** The flat, typed values of every setting; those without a default are `undefined` when unset. */
export type Settings = { readonly [K in SettingKey]: ValueOf<(typeof SETTINGS)[K]> };

/** Config-file sections parsed by their own modules (structured values no variable can carry). */
export const FILE_SECTIONS = ['tools.groups', 'rateLimit.tools', 'dlp.patterns'] as const;

/** The variable naming the optional config file. */
export const CONFIG_FILE_ENV = 'MCP_AUTH_CONFIG_FILE';
