/**
 * Every `mcp-warden.dev/*` annotation, documented in one place (as vault-k8s `annotations.go`), and
 * the parser that turns a pod's annotations into injection options. Values that become sidecar
 * variables are checked with the sidecar's own parsers (sidecar/settings.ts), so an annotation can
 * never produce a value the sidecar would refuse. Every bad key is collected; none stops the scan.
 */
import { SETTINGS, type Setting } from '../../sidecar/settings.ts';
import { quote, type Issue } from '../errors.ts';
import { didYouMean } from '../../sidecar/suggest.ts';

export const PREFIX = 'mcp-warden.dev/';

/** Annotation keys. Each constant's TSDoc is the user documentation. */
export const ANNOTATIONS = {
  /** "true" injects the sidecar, "false" opts out. A label of the same name works too; the annotation wins. */
  inject: `${PREFIX}inject`,
  /** Name of the MCP server container. Default: the first container. */
  container: `${PREFIX}container`,
  /** The MCP server's port, a number or a port name. Default: the port named `mcp`, else `http`, else the first declared. */
  upstreamPort: `${PREFIX}upstream-port`,
  /** Secret with the API keys, in the pod's namespace: `name` or `name/key` (key default `mcp-auth-key`). Mounted as a file. */
  apiKeySecret: `${PREFIX}apikey-secret`,
  /** Header carrying the API key (MCP_AUTH_HEADER). */
  apiKeyHeader: `${PREFIX}apikey-header`,
  /** JWT issuer URL (MCP_AUTH_JWT_ISSUER); needs jwt-audience and resource-url. */
  jwtIssuer: `${PREFIX}jwt-issuer`,
  /** Accepted audiences, comma-separated (MCP_AUTH_JWT_AUDIENCE). */
  jwtAudience: `${PREFIX}jwt-audience`,
  /** Groups, any one of which is needed, comma-separated (MCP_AUTH_JWT_REQUIRED_GROUPS). */
  jwtRequiredGroups: `${PREFIX}jwt-required-groups`,
  /** This server's canonical URL for RFC 9728 metadata (MCP_AUTH_RESOURCE_URL). */
  resourceUrl: `${PREFIX}resource-url`,
  /** Per-identity rate: `200/min`, `5/s`, `600/h` or a bare number per minute (MCP_AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE). */
  rateLimit: `${PREFIX}rate-limit`,
  /** Bucket capacity in requests (MCP_AUTH_RATE_LIMIT_BURST_SIZE). */
  rateLimitBurst: `${PREFIX}rate-limit-burst`,
  /** Per client IP rate, same forms as rate-limit (MCP_AUTH_RATE_LIMIT_PER_IP_PER_MINUTE). */
  rateLimitPerIp: `${PREFIX}rate-limit-per-ip`,
  /** Where buckets live: memory (per sidecar) or redis (shared by the replicas) (MCP_AUTH_RATE_LIMIT_STORE). */
  rateLimitStore: `${PREFIX}rate-limit-store`,
  /** The shared Redis: redis:// or rediss://, never with a password (MCP_AUTH_RATE_LIMIT_REDIS_URL). */
  rateLimitRedisUrl: `${PREFIX}rate-limit-redis-url`,
  /** Secret with the Redis password, in the pod's namespace: `name` or `name/key` (key default `redis-password`). Mounted as a file; refused when the store is memory and no config ConfigMap may select Redis. */
  rateLimitRedisSecret: `${PREFIX}rate-limit-redis-secret`,
  /** While Redis cannot answer: local, open or closed (MCP_AUTH_RATE_LIMIT_REDIS_FAILURE). */
  rateLimitRedisFailure: `${PREFIX}rate-limit-redis-failure`,
  /** Prefix of this workload's Redis keys (MCP_AUTH_RATE_LIMIT_REDIS_PREFIX). */
  rateLimitRedisPrefix: `${PREFIX}rate-limit-redis-prefix`,
  /** DLP mode: redact, block or off (MCP_AUTH_DLP_MODE). */
  dlp: `${PREFIX}dlp`,
  /** Paths served without auth, comma-separated canonical paths (MCP_AUTH_EXEMPT_PATHS). */
  exemptPaths: `${PREFIX}exempt-paths`,
  /** Tools anyone may call, comma-separated (MCP_AUTH_ALLOW_TOOLS). */
  allowTools: `${PREFIX}allow-tools`,
  /** Tools nobody may call, comma-separated (MCP_AUTH_DENY_TOOLS). */
  denyTools: `${PREFIX}deny-tools`,
  /** ConfigMap in the pod's namespace mounted as the sidecar's config file: `name` or `name/key` (key default `config.yaml`). */
  config: `${PREFIX}config`,
  /** How the MCP server speaks: `http` (default) or `stdio` (on stdin/stdout; the webhook adds a bridge, see the README's stdio section). */
  transport: `${PREFIX}transport`,
  /** stdio mode: the server's command as a JSON array, when the container leaves `command` to the image's ENTRYPOINT. The container's `args` follow it, as Kubernetes appends args to a command. */
  stdioCommand: `${PREFIX}stdio-command`,
  /** Written by the webhook: JSON record of what it injected. Never set it yourself. */
  status: `${PREFIX}status`,
} as const;

/** Label keys the webhook writes. */
export const LABELS = {
  /**
   * "true" on every pod the webhook injected, so monitoring can select them (the chart's
   * PodMonitor does). Written and removed by the webhook like the rest of injection.
   */
  injected: `${PREFIX}injected`,
} as const;

/** Annotations whose value is one sidecar setting, passed through that setting's parser. */
const DIRECT: ReadonlyArray<readonly [string, Setting<unknown>]> = [
  [ANNOTATIONS.apiKeyHeader, SETTINGS.apiKeyHeader],
  [ANNOTATIONS.jwtIssuer, SETTINGS.jwtIssuer],
  [ANNOTATIONS.jwtAudience, SETTINGS.jwtAudience],
  [ANNOTATIONS.jwtRequiredGroups, SETTINGS.jwtRequiredGroups],
  [ANNOTATIONS.resourceUrl, SETTINGS.resourceUrl],
  [ANNOTATIONS.rateLimitBurst, SETTINGS.rateLimitBurst],
  [ANNOTATIONS.rateLimitStore, SETTINGS.rateLimitStore],
  [ANNOTATIONS.rateLimitRedisUrl, SETTINGS.redisUrl],
  [ANNOTATIONS.rateLimitRedisFailure, SETTINGS.redisFailure],
  [ANNOTATIONS.rateLimitRedisPrefix, SETTINGS.redisPrefix],
  [ANNOTATIONS.dlp, SETTINGS.dlpMode],
  [ANNOTATIONS.exemptPaths, SETTINGS.exemptPaths],
  [ANNOTATIONS.allowTools, SETTINGS.allowTools],
  [ANNOTATIONS.denyTools, SETTINGS.denyTools],
] as unknown as ReadonlyArray<readonly [string, Setting<unknown>]>;

/** Rate annotations: value form -> the per-minute setting. */
const RATES: ReadonlyArray<readonly [string, Setting<unknown>]> = [
  [ANNOTATIONS.rateLimit, SETTINGS.rateLimitPerMinute],
  [ANNOTATIONS.rateLimitPerIp, SETTINGS.rateLimitPerIpPerMinute],
] as unknown as ReadonlyArray<readonly [string, Setting<unknown>]>;

/** Sidecar variable -> the annotation that sets it, so cross-setting problems can name the annotation. */
export const ENV_TO_ANNOTATION: ReadonlyMap<string, string> = new Map([...DIRECT, ...RATES].map(([key, s]) => [s.env, key]));

export const DEFAULT_APIKEY_SECRET_KEY = 'mcp-auth-key';
export const DEFAULT_CONFIG_MAP_KEY = 'config.yaml';
export const DEFAULT_REDIS_SECRET_KEY = 'redis-password';

/** A Secret or ConfigMap reference in the pod's own namespace. */
export interface ObjectKeyRef {
  readonly name: string;
  readonly key: string;
}

export const TRANSPORTS = ['http', 'stdio'] as const;
export type McpTransport = (typeof TRANSPORTS)[number];

/** Bounds on the stdio-command annotation's argv: generous for real commands, small enough to keep error messages short. */
const MAX_ARGV_ITEMS = 256;
const MAX_ARG_BYTES = 4096;

export interface AnnotationOptions {
  /** "true", "false", or undefined when neither the annotation nor the label says. */
  readonly inject: 'true' | 'false' | undefined;
  readonly transport: McpTransport;
  /** stdio mode: the argv standing in for the container's `command`, when the image's ENTRYPOINT is used. */
  readonly stdioCommand: readonly string[] | undefined;
  readonly container: string | undefined;
  /** A port number or an IANA_SVC_NAME. */
  readonly upstreamPort: number | string | undefined;
  readonly apiKeySecret: ObjectKeyRef | undefined;
  readonly configMap: ObjectKeyRef | undefined;
  /** The Redis password's Secret, from the annotation (the cluster default is applied later). */
  readonly redisSecret: ObjectKeyRef | undefined;
  /** Sidecar variable -> value (formatted by the setting), in annotation order; each value valid. */
  readonly env: ReadonlyArray<readonly [string, string]>;
  /** Which annotation produced each variable, so later checks can name the annotation. */
  readonly envSource: ReadonlyMap<string, string>;
}

const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DATA_KEY = /^[-._a-zA-Z0-9]{1,253}$/;
const CONTAINER_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** IANA_SVC_NAME (RFC 6335 5.1): 1-15 chars, lowercase letters, digits and '-', at least one letter, no '--', no leading or trailing '-'. */
export const IANA_SVC_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/;
const RATE = /^(\d{1,12})\s*(?:\/\s*(s|sec|second|m|min|minute|h|hour))?$/;
const RATE_EXPECTED = 'a rate such as 200/min, 5/s or 600/h (a bare number means per minute; per hour must be a multiple of 60)';

/** `name` or `name/key` of a Secret or ConfigMap in the pod's own namespace. */
export function parseRef(value: string, defaultKey: string, what: string): { ok: true; ref: ObjectKeyRef } | { ok: false; expected: string } {
  const expected = `a ${what} in the pod's own namespace: name or name/key (no namespace)`;
  const parts = value.trim().split('/');
  if (parts.length > 2) return { ok: false, expected };
  const [name, key = defaultKey] = parts as [string, string?];
  if (!DNS_SUBDOMAIN.test(name) || !DATA_KEY.test(key) || key === '.' || key === '..') return { ok: false, expected };
  return { ok: true, ref: { name, key } };
}

/** A JSON array of 1 to MAX_ARGV_ITEMS non-empty strings without NUL, or undefined. */
export function parseArgv(value: string): string[] | undefined {
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_ARGV_ITEMS) return undefined;
  if (!v.every((a) => typeof a === 'string' && a !== '' && !a.includes('\0') && Buffer.byteLength(a) <= MAX_ARG_BYTES)) return undefined;
  return v as string[];
}

/** Parse `200/min` and friends into requests per minute; undefined when malformed. */
export function parseRate(value: string): number | undefined {
  const m = RATE.exec(value.trim().toLowerCase());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] ?? 'min';
  if (unit.startsWith('s')) return n * 60;
  if (unit.startsWith('h')) return n % 60 === 0 ? n / 60 : undefined;
  return n;
}

/**
 * Read the pod's annotations (and the inject label) into options, collecting every problem. Unknown
 * keys under the prefix are problems too: a typo in a security setting must not pass silently.
 */
export function parseAnnotations(annotations: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): { options: AnnotationOptions; issues: Issue[] } {
  const issues: Issue[] = [];
  const known = new Set<string>(Object.values(ANNOTATIONS));
  for (const key of Object.keys(annotations)) {
    if (key.startsWith(PREFIX) && !known.has(key)) {
      issues.push({ setting: key, value: quote(annotations[key]), expected: `a known ${PREFIX} annotation${didYouMean(key, known, ' (see the annotations table in the README)')}` });
    }
  }
  const get = (k: string): string | undefined => {
    const v = annotations[k];
    return typeof v === 'string' ? v : undefined;
  };

  let inject: AnnotationOptions['inject'];
  for (const [where, v] of [['label', labels[ANNOTATIONS.inject]], ['annotation', get(ANNOTATIONS.inject)]] as const) {
    if (v === undefined) continue;
    const t = v.trim().toLowerCase();
    if (t === 'true' || t === 'false') inject = t;
    else issues.push({ setting: `${ANNOTATIONS.inject}${where === 'label' ? ' (label)' : ''}`, value: quote(v), expected: '"true" or "false"' });
  }

  const container = get(ANNOTATIONS.container);
  if (container !== undefined && !CONTAINER_NAME.test(container)) issues.push({ setting: ANNOTATIONS.container, value: quote(container), expected: 'a container name (DNS label)' });

  let upstreamPort: number | string | undefined;
  const up = get(ANNOTATIONS.upstreamPort)?.trim();
  if (up !== undefined) {
    if (/^\d{1,5}$/.test(up) && Number(up) >= 1 && Number(up) <= 65535) upstreamPort = Number(up);
    else if (IANA_SVC_NAME.test(up)) upstreamPort = up;
    else issues.push({ setting: ANNOTATIONS.upstreamPort, value: quote(up), expected: 'a port number from 1 to 65535 or a port name (IANA_SVC_NAME)' });
  }

  const refOf = (key: string, def: string, what: string): ObjectKeyRef | undefined => {
    const v = get(key);
    if (v === undefined) return undefined;
    const r = parseRef(v, def, what);
    if (r.ok) return r.ref;
    issues.push({ setting: key, value: quote(v), expected: r.expected });
    return undefined;
  };
  let transport: McpTransport = 'http';
  const tr = get(ANNOTATIONS.transport);
  if (tr !== undefined) {
    const t = tr.trim().toLowerCase();
    if ((TRANSPORTS as readonly string[]).includes(t)) transport = t as McpTransport;
    else issues.push({ setting: ANNOTATIONS.transport, value: quote(tr), expected: TRANSPORTS.map((x) => `"${x}"`).join(' or ') });
  }
  let stdioCommand: string[] | undefined;
  const sc = get(ANNOTATIONS.stdioCommand);
  if (sc !== undefined) {
    stdioCommand = parseArgv(sc);
    if (stdioCommand === undefined) issues.push({ setting: ANNOTATIONS.stdioCommand, value: quote(sc), expected: `a JSON array of 1 to ${MAX_ARGV_ITEMS} non-empty strings, such as ["node", "dist/index.js"]` });
    else if (transport !== 'stdio') issues.push({ setting: ANNOTATIONS.stdioCommand, value: quote(sc), expected: `unset unless ${ANNOTATIONS.transport} is "stdio"` });
  }
  if (transport === 'stdio' && upstreamPort !== undefined) {
    issues.push({ setting: ANNOTATIONS.upstreamPort, value: quote(String(upstreamPort)), expected: `unset when ${ANNOTATIONS.transport} is "stdio" (the server has no port; the sidecar reaches it through the bridge)` });
  }

  const apiKeySecret = refOf(ANNOTATIONS.apiKeySecret, DEFAULT_APIKEY_SECRET_KEY, 'Secret');
  const configMap = refOf(ANNOTATIONS.config, DEFAULT_CONFIG_MAP_KEY, 'ConfigMap');
  const redisSecret = refOf(ANNOTATIONS.rateLimitRedisSecret, DEFAULT_REDIS_SECRET_KEY, 'Secret');

  const env: Array<readonly [string, string]> = [];
  const envSource = new Map<string, string>();
  const put = (key: string, setting: Setting<unknown>, raw: string, shown = raw) => {
    const parsed = setting.parse(raw);
    if (!parsed.ok) {
      issues.push({ setting: key, value: quote(setting.display(shown)), expected: setting.expected + (parsed.detail ? ` (${parsed.detail})` : '') });
      return;
    }
    env.push([setting.env, setting.format(parsed.value)]);
    envSource.set(setting.env, key);
  };
  for (const [key, setting] of DIRECT) {
    const v = get(key);
    if (v !== undefined) put(key, setting, v);
  }
  for (const [key, setting] of RATES) {
    const v = get(key);
    if (v === undefined) continue;
    const perMinute = parseRate(v);
    if (perMinute === undefined) issues.push({ setting: key, value: quote(v), expected: RATE_EXPECTED });
    else put(key, setting, String(perMinute), v);
  }
  return { options: { inject, transport, stdioCommand, container, upstreamPort, apiKeySecret, configMap, redisSecret, env, envSource }, issues };
}
