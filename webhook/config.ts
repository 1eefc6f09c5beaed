/**
 * The webhook's configuration file (see notes/webhook-contract.md): parsed once into a frozen object,
 * every key checked, unknown keys rejected, every problem reported at once (ConfigError, exit 2).
 * `sidecar.env` keys are sidecar variables checked with the sidecar's own settings table.
 */
import { deepFreeze } from '../sidecar/config.ts';
import { parse as parseYaml } from 'yaml';
import { ConfigError, type ConfigIssue } from '../sidecar/errors.ts';
import { CONFIG_FILE_ENV, SETTINGS, type Setting } from '../sidecar/settings.ts';
import { didYouMean } from '../sidecar/suggest.ts';
import { WARDEN_VERSION } from './version.ts';
import { DEFAULT_REDIS_SECRET_KEY, parseRef, type ObjectKeyRef } from './inject/annotations.ts';
import { isObj, type Obj } from './json.ts';

export type NativeSidecarMode = 'auto' | 'true' | 'false';
export type TlsMode = 'self-managed' | 'provided';

export interface WebhookConfig {
  readonly server: { readonly port: number };
  readonly tls: {
    readonly mode: TlsMode;
    readonly certFile: string;
    readonly keyFile: string;
    readonly secretName: string;
    readonly serviceName: string;
    readonly webhookConfigName: string;
    readonly validityDays: number;
    readonly renewBeforeDays: number;
  };
  readonly nativeSidecar: NativeSidecarMode;
  readonly excludeNamespaces: readonly string[];
  readonly sidecar: {
    readonly image: string;
    readonly imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
    readonly resources: Readonly<Record<string, Readonly<Record<string, string>>>>;
    readonly listenPort: number;
    readonly adminPort: number;
    /**
     * The sidecar's user and group id; null leaves them to the platform (OpenShift's
     * restricted-v2 SCC assigns ids per namespace and refuses pods that name others).
     */
    readonly runAsUser: number | null;
    /** stdio mode: the bridge's Streamable HTTP port on loopback (the sidecar's upstream). */
    readonly stdioListenPort: number;
    /** stdio mode: the bridge's probe port (/livez, /readyz). */
    readonly stdioAdminPort: number;
    /** Sidecar variable -> value, already validated; annotations override them. */
    readonly env: Readonly<Record<string, string>>;
    /**
     * Secret (name or name/key, in each pod's own namespace) with the Redis password for sidecars
     * that use Redis and name no Secret of their own; unset: none.
     */
    readonly redisPasswordSecret: ObjectKeyRef | undefined;
  };
}

/** The sidecar image's numeric nonroot user (distroless), so the kubelet can check runAsNonRoot. */
export const SIDECAR_UID = 65532;

/** Defaults, the values of the contract's example file. */
export const DEFAULT_WEBHOOK_CONFIG: WebhookConfig = deepFreeze({
  server: { port: 8443 },
  tls: {
    mode: 'self-managed',
    certFile: '/etc/mcp-warden/tls/tls.crt',
    keyFile: '/etc/mcp-warden/tls/tls.key',
    secretName: 'mcp-warden-webhook-tls',
    serviceName: 'mcp-warden-webhook',
    webhookConfigName: 'mcp-warden',
    validityDays: 365,
    renewBeforeDays: 30,
  },
  nativeSidecar: 'auto',
  excludeNamespaces: ['kube-system', 'kube-public', 'kube-node-lease'],
  sidecar: {
    image: `ghcr.io/mcp-warden/sidecar:${WARDEN_VERSION}`,
    imagePullPolicy: 'IfNotPresent',
    // Sized from bench/proxy.bench.ts (README, "Benchmarks"): see there for the load.
    resources: { requests: { cpu: '50m', memory: '80Mi' }, limits: { memory: '256Mi' } },
    listenPort: 8080,
    adminPort: 9901,
    runAsUser: SIDECAR_UID,
    stdioListenPort: 9902,
    stdioAdminPort: 9903,
    env: {},
    redisPasswordSecret: undefined,
  },
} as WebhookConfig);

/**
 * Sidecar variables the webhook itself sets per pod; cluster defaults may not set them.
 * Secret-valued settings are refused too: only Secret names cross the webhook, never values.
 */
export const WEBHOOK_OWNED_ENV: ReadonlySet<string> = new Set([
  SETTINGS.upstreamUrl.env,
  SETTINGS.listenPort.env,
  SETTINGS.adminPort.env,
  SETTINGS.apiKeyFile.env,
  CONFIG_FILE_ENV,
  // Files exist in the sidecar only where the webhook mounts them (sidecar.redisPasswordSecret).
  SETTINGS.redisPasswordFile.env,
  SETTINGS.redisCaFile.env,
]);

/**
 * Why a variable of WEBHOOK_OWNED_ENV cannot be a cluster default in `sidecar.env`: the webhook's
 * check at start and the chart's schema (scripts/values-schema.ts) give the same reason.
 */
export function ownedEnvReason(name: string): string {
  // The webhook mounts no CA file (unlike the password file, which it sets per pod).
  if (name === SETTINGS.redisCaFile.env) return 'injected pods hold no file at a path named here (a rediss:// Redis with a public CA needs none)';
  return 'the webhook sets this variable for each pod';
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUANTITY = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+|[KMGTPE]i?|[mkMGTPEu]|n)?$/;
const RESOURCE_NAME = /^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

const show = (v: unknown): string => (v === undefined ? 'unset' : JSON.stringify(v));

/** Read a YAML document into a config; `source` names the file in messages. Throws ConfigError. */
export function parseWebhookConfigText(text: string, source: string): WebhookConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    throw new ConfigError([{ setting: source, value: 'unparsable', expected: `valid YAML (${(err as Error).message.split('\n')[0]})` }]);
  }
  return parseWebhookConfig(doc ?? {}, source);
}

/** Validate a parsed document (absent keys take the defaults). Throws one ConfigError naming every problem. */
export function parseWebhookConfig(doc: unknown, source = 'config'): WebhookConfig {
  const issues: ConfigIssue[] = [];
  const at = (path: string) => `${source}: ${path}`;
  const bad = (path: string, v: unknown, expected: string) => issues.push({ setting: at(path), value: show(v), expected });
  if (!isObj(doc)) {
    throw new ConfigError([{ setting: source, value: show(doc), expected: 'a mapping at the top level' }]);
  }
  const D = DEFAULT_WEBHOOK_CONFIG;
  const section = (name: string, keys: readonly string[]): Obj => {
    const v = doc[name];
    if (v === undefined || v === null) return {};
    if (!isObj(v)) {
      bad(name, v, 'a mapping');
      return {};
    }
    for (const k of Object.keys(v)) if (!keys.includes(k)) bad(`${name}.${k}`, v[k], `no such key (known: ${keys.join(', ')})`);
    return v;
  };
  for (const k of Object.keys(doc)) if (!['server', 'tls', 'nativeSidecar', 'excludeNamespaces', 'sidecar'].includes(k)) bad(k, doc[k], 'no such key (known: server, tls, nativeSidecar, excludeNamespaces, sidecar)');

  const num = (path: string, v: unknown, def: number, min: number, max: number): number => {
    if (v === undefined) return def;
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
    bad(path, v, `a whole number from ${min} to ${max}`);
    return def;
  };
  const str = (path: string, v: unknown, def: string, re?: RegExp, expected = 'a non-empty string'): string => {
    if (v === undefined) return def;
    if (typeof v === 'string' && v !== '' && (!re || re.test(v))) return v;
    bad(path, v, expected);
    return def;
  };
  const oneOf = <T extends string>(path: string, v: unknown, def: T, values: readonly T[]): T => {
    if (v === undefined) return def;
    const s = typeof v === 'boolean' ? String(v) : v;
    if (typeof s === 'string' && (values as readonly string[]).includes(s)) return s as T;
    bad(path, v, `one of ${values.map((x) => `"${x}"`).join(', ')}`);
    return def;
  };

  const server = section('server', ['port']);
  const tls = section('tls', ['mode', 'certFile', 'keyFile', 'secretName', 'serviceName', 'webhookConfigName', 'validityDays', 'renewBeforeDays']);
  const sc = section('sidecar', ['image', 'imagePullPolicy', 'resources', 'listenPort', 'adminPort', 'runAsUser', 'stdioListenPort', 'stdioAdminPort', 'env', 'redisPasswordSecret']);

  const validityDays = num('tls.validityDays', tls.validityDays, D.tls.validityDays, 2, 3650);
  const renewBeforeDays = num('tls.renewBeforeDays', tls.renewBeforeDays, D.tls.renewBeforeDays, 1, 3649);
  if (renewBeforeDays >= validityDays) bad('tls.renewBeforeDays', renewBeforeDays, `fewer days than tls.validityDays (${validityDays})`);

  let excludeNamespaces: readonly string[] = D.excludeNamespaces;
  if (doc.excludeNamespaces !== undefined) {
    const v = doc.excludeNamespaces;
    if (Array.isArray(v) && v.every((n) => typeof n === 'string' && DNS_LABEL.test(n))) excludeNamespaces = v as string[];
    else bad('excludeNamespaces', v, 'a list of namespace names (DNS labels)');
  }

  const listenPort = num('sidecar.listenPort', sc.listenPort, D.sidecar.listenPort, 1, 65535);
  const adminPort = num('sidecar.adminPort', sc.adminPort, D.sidecar.adminPort, 1, 65535);
  if (listenPort === adminPort) bad('sidecar.adminPort', adminPort, `a port other than sidecar.listenPort (${listenPort})`);
  const stdioListenPort = num('sidecar.stdioListenPort', sc.stdioListenPort, D.sidecar.stdioListenPort, 1, 65535);
  const stdioAdminPort = num('sidecar.stdioAdminPort', sc.stdioAdminPort, D.sidecar.stdioAdminPort, 1, 65535);
  // The four share the pod's network namespace: each must differ from those before it.
  const taken: Array<readonly [string, number]> = [['listenPort', listenPort], ['adminPort', adminPort]];
  for (const [key, port] of [['stdioListenPort', stdioListenPort], ['stdioAdminPort', stdioAdminPort]] as const) {
    const clash = taken.find(([, p]) => p === port);
    if (clash) bad(`sidecar.${key}`, port, `a port other than sidecar.${clash[0]} (${port})`);
    taken.push([key, port]);
  }

  const cfg: WebhookConfig = {
    server: { port: num('server.port', server.port, D.server.port, 1, 65535) },
    tls: {
      mode: oneOf('tls.mode', tls.mode, D.tls.mode, ['self-managed', 'provided'] as const),
      certFile: str('tls.certFile', tls.certFile, D.tls.certFile, undefined, 'a file path'),
      keyFile: str('tls.keyFile', tls.keyFile, D.tls.keyFile, undefined, 'a file path'),
      secretName: str('tls.secretName', tls.secretName, D.tls.secretName, DNS_SUBDOMAIN, 'a Secret name (DNS subdomain)'),
      serviceName: str('tls.serviceName', tls.serviceName, D.tls.serviceName, DNS_LABEL, 'a Service name (DNS label)'),
      webhookConfigName: str('tls.webhookConfigName', tls.webhookConfigName, D.tls.webhookConfigName, DNS_SUBDOMAIN, 'a MutatingWebhookConfiguration name (DNS subdomain)'),
      validityDays,
      renewBeforeDays,
    },
    nativeSidecar: oneOf('nativeSidecar', doc.nativeSidecar, D.nativeSidecar, ['auto', 'true', 'false'] as const),
    excludeNamespaces,
    sidecar: {
      image: str('sidecar.image', sc.image, D.sidecar.image, /^[^\s]+$/, 'an image reference without spaces'),
      imagePullPolicy: oneOf('sidecar.imagePullPolicy', sc.imagePullPolicy, D.sidecar.imagePullPolicy, ['Always', 'IfNotPresent', 'Never'] as const),
      resources: parseResources(sc.resources, D.sidecar.resources, bad),
      listenPort,
      adminPort,
      // null is a value here (leave it to the platform); only an absent key takes the default.
      runAsUser: sc.runAsUser === null ? null : num('sidecar.runAsUser', sc.runAsUser, SIDECAR_UID, 1, 2147483647),
      stdioListenPort,
      stdioAdminPort,
      env: parseEnv(sc.env, bad),
      redisPasswordSecret: secretRef('sidecar.redisPasswordSecret', sc.redisPasswordSecret, bad),
    },
  };
  if (issues.length > 0) throw new ConfigError(issues);
  return deepFreeze(cfg);
}

/** A Secret in each pod's own namespace, `name` or `name/key`; never another namespace's. */
function secretRef(path: string, v: unknown, bad: (p: string, v: unknown, e: string) => void): ObjectKeyRef | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const r = typeof v === 'string' ? parseRef(v, DEFAULT_REDIS_SECRET_KEY, 'Secret') : undefined;
  if (r?.ok) return r.ref;
  bad(path, v, r?.expected ?? "a Secret in each pod's own namespace: name or name/key (no namespace)");
  return undefined;
}

function parseResources(v: unknown, def: WebhookConfig['sidecar']['resources'], bad: (p: string, v: unknown, e: string) => void): WebhookConfig['sidecar']['resources'] {
  if (v === undefined) return def;
  if (!isObj(v)) {
    bad('sidecar.resources', v, 'a mapping with requests and/or limits');
    return def;
  }
  const out: Record<string, Record<string, string>> = {};
  for (const [k, inner] of Object.entries(v)) {
    if (k !== 'requests' && k !== 'limits') {
      bad(`sidecar.resources.${k}`, inner, 'no such key (known: requests, limits)');
      continue;
    }
    if (!isObj(inner)) {
      bad(`sidecar.resources.${k}`, inner, 'a mapping of resource name to quantity');
      continue;
    }
    out[k] = {};
    for (const [name, q] of Object.entries(inner)) {
      const s = typeof q === 'number' ? String(q) : q;
      if (!RESOURCE_NAME.test(name)) bad(`sidecar.resources.${k}.${name}`, q, 'a resource name such as cpu or memory');
      else if (typeof s !== 'string' || !QUANTITY.test(s)) bad(`sidecar.resources.${k}.${name}`, q, 'a Kubernetes quantity such as 50m or 64Mi');
      else out[k][name] = s;
    }
  }
  return out;
}

/** `sidecar.env`: each key must be a sidecar setting's variable, each value pass that setting's parser. */
function parseEnv(v: unknown, bad: (p: string, v: unknown, e: string) => void): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) {
    bad('sidecar.env', v, 'a mapping of sidecar variable to value');
    return {};
  }
  const byEnv = new Map<string, Setting<unknown>>(Object.values(SETTINGS).map((s) => [s.env, s as Setting<unknown>]));
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(v)) {
    const path = `sidecar.env.${name}`;
    const setting = byEnv.get(name);
    if (WEBHOOK_OWNED_ENV.has(name)) bad(path, raw, `not set here: ${ownedEnvReason(name)}`);
    else if (!setting) bad(path, raw, `a variable the sidecar knows${didYouMean(name, byEnv.keys(), ' (see sidecar/settings.ts)')}`);
    else if (setting.secret) bad(path, '<redacted>', 'not set here: secret values never go in the webhook configuration (use the apikey-secret annotation)');
    else {
      const parsed = setting.parse(raw);
      if (parsed.ok) out[name] = setting.format(parsed.value);
      else bad(path, typeof raw === 'string' ? setting.display(raw) : raw, setting.expected + (parsed.detail ? ` (${parsed.detail})` : ''));
    }
  }
  return out;
}
