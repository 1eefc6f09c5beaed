/**
 * The pure core: `inject(pod, namespace, config, options)` decides, strips any earlier injection
 * (from its status record), renders the sidecar again, and diffs the result against the input.
 * No I/O, no clock, no Kubernetes API: the same input always gives the same patch.
 */
import type { Operation } from 'fast-json-patch';
import { limitStoreOf, loadConfig, type ResolvedAuthMode } from '../../sidecar/config.ts';
import { CONFIG_FILE_ENV, SETTINGS, type LimitStore } from '../../sidecar/settings.ts';
import { ConfigError } from '../../sidecar/errors.ts';
import type { WebhookConfig } from '../config.ts';
import { WEBHOOK_ERR, WebhookError, formatIssueList, quote, type Issue } from '../errors.ts';
import { WARDEN_VERSION } from '../version.ts';
import { ANNOTATIONS, ENV_TO_ANNOTATION, LABELS, parseAnnotations, type AnnotationOptions, type ObjectKeyRef } from './annotations.ts';
import { skipBeforeAnnotations, skipByOptIn, type SkipReason } from './decide.ts';
import { diff } from './patch.ts';
import { planPorts, type PortPlan } from './ports.ts';
import { renameProbePorts } from './probes.ts';
import { APIKEY_DIR, APIKEY_FILE, CONFIG_DIR, CONFIG_FILE, REDIS_DIR, REDIS_PASSWORD_FILE, SIDECAR_NAME, renderSidecar, renderVolumes } from './render.ts';
import { podShapeIssues } from './shape.ts';
import { DEFAULT_CONTAINER_ANNOTATION, readStatus, strip, unrecordedSidecars, type InjectionStatus } from './status.ts';
import { planStdio, renderBridge, renderStdioVolume, wrapApp, type StdioPlan } from './stdio.ts';
import type { PodLike } from './types.ts';

export interface InjectOptions {
  /** Render a native sidecar (Kubernetes >= 1.29); decided once at start, never per request. */
  readonly nativeSidecar: boolean;
  /** The webhook's own namespace: never mutated. */
  readonly webhookNamespace?: string | undefined;
}

export type InjectResult =
  | { readonly action: 'skipped'; readonly reason: SkipReason; readonly patch: readonly Operation[]; readonly warnings: readonly string[] }
  | { readonly action: 'injected'; readonly patch: readonly Operation[]; readonly object: PodLike; readonly status: InjectionStatus; readonly warnings: readonly string[] }
  | { readonly action: 'rejected'; readonly error: WebhookError };

/** A problem in the pod spec itself (a reserved name taken, no free port) rather than in an annotation. */
const specCode = (issues: readonly Issue[]) => (issues.some((i) => i.setting.startsWith('spec.')) ? WEBHOOK_ERR.POD_UNINJECTABLE : WEBHOOK_ERR.ANNOTATION_INVALID);

const reject = (issues: Issue[], code: typeof WEBHOOK_ERR.ANNOTATION_INVALID | typeof WEBHOOK_ERR.POD_UNINJECTABLE = specCode(issues)): InjectResult => ({
  action: 'rejected',
  error: new WebhookError(code, formatIssueList('mcp-warden: cannot inject the sidecar', issues), { status: 400, issues }),
});

/**
 * Decide and render. `pod` is never modified. A pod that carries a status record is stripped and
 * rendered again, so running this on its own output yields an empty patch.
 */
export function inject(pod: PodLike, namespace: string, config: WebhookConfig, opts: InjectOptions): InjectResult {
  // Nothing below reads a field before its type is known: a malformed pod is named, never thrown on.
  const shape = podShapeIssues(pod);
  if (shape.length > 0) return reject(shape, WEBHOOK_ERR.POD_UNINJECTABLE);
  const early = skipBeforeAnnotations(pod, namespace, { excludeNamespaces: config.excludeNamespaces, webhookNamespace: opts.webhookNamespace });
  if (early) return { action: 'skipped', reason: early, patch: [], warnings: [] };

  const annotations = pod.metadata?.annotations ?? {};
  const { options, issues } = parseAnnotations(annotations, pod.metadata?.labels ?? {});
  const optIn = skipByOptIn(options.inject);
  if (optIn && issues.length === 0) return { action: 'skipped', reason: optIn, patch: [], warnings: [] };
  if (optIn === 'not-annotated' || optIn === 'opted-out') {
    // Bad values on a pod that is not injected harm nobody: skip, but say so.
    return { action: 'skipped', reason: optIn, patch: [], warnings: [formatIssueList('mcp-warden: ignored invalid annotations', issues)] };
  }

  const work = structuredClone(pod);
  const rawStatus = annotations[ANNOTATIONS.status];
  const previous = rawStatus === undefined ? undefined : readStatus(rawStatus);
  if (rawStatus !== undefined && previous === undefined) issues.push({ setting: ANNOTATIONS.status, value: quote(rawStatus), expected: 'a status record written by mcp-warden (remove the annotation)' });
  // Before strip(), which removes every container of the sidecar's name: only the one an earlier
  // injection recorded may go; a pod's own container of that name is refused, never replaced.
  issues.push(...unrecordedSidecars(work.spec, previous));
  strip(work, previous);

  const spec = work.spec;
  const containerName = options.container ?? spec.containers[0]?.name;
  const app = spec.containers.find((c) => c.name === containerName);
  if (!app) {
    issues.push({ setting: ANNOTATIONS.container, value: quote(containerName ?? 'unset'), expected: `the name of a container of the pod (${spec.containers.map((c) => c.name).join(', ') || 'it has none'})` });
    return reject(issues);
  }
  let plan: PortPlan | undefined;
  let stdioPlan: StdioPlan | undefined;
  if (options.transport === 'stdio') {
    // stdio mode: the sidecar's upstream is the bridge, not a port of the app.
    // Issues name the container where the pod as submitted has it (strip() may have moved it).
    const planned = planStdio(spec, app, `spec.containers[${pod.spec.containers.findIndex((c) => c.name === app.name)}]`, options.stdioCommand, config.sidecar);
    // One problem per key: a stdio-command already reported as malformed is not also "missing".
    if (Array.isArray(planned)) issues.push(...planned.filter((p) => !issues.some((i) => i.setting === p.setting)));
    else [stdioPlan, plan] = [planned, planned.ports];
  } else {
    const planned = planPorts(spec, app, options.upstreamPort, config.sidecar);
    if ('setting' in planned) issues.push(planned);
    else plan = planned;
  }

  const { env, redisSecret, issues: envIssues } = sidecarEnv(options, config, plan);
  issues.push(...envIssues);
  // The sidecar's own check of the variables it will get; undefined when a ConfigMap may supply more.
  const checked = !options.configMap && issues.length === 0 ? crossCheck(env, options) : undefined;
  if (checked) issues.push(...checked.issues);
  const volumes = [...renderVolumes({ ...options, redisSecret }), ...(stdioPlan ? [renderStdioVolume()] : [])];
  for (const v of volumes) {
    // Named by its index in the pod as submitted: strip() removes only recorded volumes, so it is there.
    if ((spec.volumes ?? []).some((x) => x.name === v.name)) issues.push({ setting: `spec.volumes[${(pod.spec.volumes ?? []).findIndex((x) => x.name === v.name)}].name`, value: quote(v.name), expected: `another name: "${v.name}" is reserved for mcp-warden` });
  }
  if (issues.length > 0 || !plan) return reject(issues);

  // Take over the app port's name, and keep the app's own probes on the app.
  let rewrittenProbes: string[] = [];
  if (plan.rename) {
    app.ports![plan.appPortIndex]!.name = plan.rename.to;
    rewrittenProbes = renameProbePorts(app, plan.rename.from, plan.rename.to);
  }
  const sidecar = renderSidecar(config, { apiKeySecret: options.apiKeySecret, configMap: options.configMap, redisSecret, native: opts.nativeSidecar, env, publicPortName: plan.publicPortName, adminPortName: plan.adminPortName, listenPort: plan.listenPort, adminPort: plan.adminPort });
  // The bridge follows the sidecar: native sidecars start in order, and neither waits for the other.
  const injected = stdioPlan ? [sidecar, renderBridge(config, stdioPlan, opts.nativeSidecar)] : [sidecar];
  const stdioStatus = stdioPlan ? wrapApp(app, stdioPlan) : undefined;
  if (opts.nativeSidecar) spec.initContainers = [...injected, ...(spec.initContainers ?? [])];
  else spec.containers = [...injected, ...spec.containers];
  if (volumes.length > 0) spec.volumes = [...(spec.volumes ?? []), ...volumes];

  work.metadata ??= {};
  const ann = (work.metadata.annotations ??= {});
  const setDefault = ann[DEFAULT_CONTAINER_ANNOTATION] === undefined;
  if (setDefault) ann[DEFAULT_CONTAINER_ANNOTATION] = app.name;
  // The label monitoring selects on; a value the pod already had is overwritten, so it is ours to strip.
  const labels = (work.metadata.labels ??= {});
  labels[LABELS.injected] = 'true';
  const status: InjectionStatus = {
    version: WARDEN_VERSION,
    sidecar: SIDECAR_NAME,
    native: opts.nativeSidecar,
    container: app.name,
    upstreamPort: plan.upstreamPort,
    listenPort: plan.listenPort,
    adminPort: plan.adminPort,
    renamedPorts: plan.rename ? [plan.rename] : [],
    rewrittenProbes,
    volumes: volumes.map((v) => v.name),
    env: env.map(([k]) => k),
    defaultContainer: setDefault,
    injectedLabel: true,
    ...(stdioStatus ? { stdio: stdioStatus } : {}),
  };
  ann[ANNOTATIONS.status] = JSON.stringify(status);

  const warnings = [...plan.warnings];
  if (spec.hostNetwork === true) warnings.push(`mcp-warden: hostNetwork is on: the sidecar's ports ${plan.listenPort} and ${plan.adminPort} are node ports and must be free on every node`);
  if (checked?.auth === 'none') {
    warnings.push(`mcp-warden: neither ${ANNOTATIONS.apiKeySecret} nor ${ANNOTATIONS.jwtIssuer} is set: the sidecar lets every caller through (rate limits and DLP still apply)`);
  }
  return { action: 'injected', patch: diff(pod, work), object: work, status, warnings };
}

/**
 * The sidecar's variables: what the webhook decides per pod, then the cluster defaults, then the
 * annotations (which override defaults of the same name). A sidecar that uses Redis gets its
 * password from the annotation's Secret, else from the cluster's default Secret name (always in
 * the pod's own namespace), mounted as a file.
 */
function sidecarEnv(o: AnnotationOptions, config: WebhookConfig, plan: PortPlan | undefined): { env: Array<readonly [string, string]>; redisSecret: ObjectKeyRef | undefined; issues: Issue[] } {
  const out = new Map<string, string>();
  if (plan) {
    out.set(SETTINGS.upstreamUrl.env, `http://127.0.0.1:${plan.upstreamPort}`);
    out.set(SETTINGS.listenPort.env, String(plan.listenPort));
    out.set(SETTINGS.adminPort.env, String(plan.adminPort));
  }
  if (o.apiKeySecret) out.set(SETTINGS.apiKeyFile.env, `${APIKEY_DIR}/${APIKEY_FILE}`);
  if (o.configMap) out.set(CONFIG_FILE_ENV, `${CONFIG_DIR}/${CONFIG_FILE}`);
  for (const [k, v] of Object.entries(config.sidecar.env)) out.set(k, v);
  for (const [k, v] of o.env) out.set(k, v);
  // The sidecar's own rule: a URL selects Redis unless the store says memory. Values here were
  // formatted by the settings' parsers, so the store is one of LIMIT_STORES.
  const storeEnv = out.get(SETTINGS.rateLimitStore.env) as LimitStore | undefined;
  const store = limitStoreOf({ rateLimitStore: storeEnv, redisUrl: out.get(SETTINGS.redisUrl.env) });
  const issues: Issue[] = [];
  // The annotation's Secret only where Redis may be in use: the store resolves to Redis, or a
  // config file may select it (variables win over the file, so not once a variable says memory).
  // Elsewhere it would be mounted for nothing, and a missing Secret would keep the pod from starting.
  if (o.redisSecret && store !== 'redis' && !(o.configMap && storeEnv === undefined)) {
    const why = storeEnv === 'memory' ? `${o.envSource.get(SETTINGS.rateLimitStore.env) ?? `sidecar.env.${SETTINGS.rateLimitStore.env} (webhook configuration)`} says "memory"` : `no Redis URL is set: neither ${ANNOTATIONS.rateLimitRedisUrl} nor the webhook's sidecar.env.${SETTINGS.redisUrl.env}`;
    issues.push({ setting: ANNOTATIONS.rateLimitRedisSecret, value: quote(`${o.redisSecret.name}/${o.redisSecret.key}`), expected: `unset: this sidecar keeps its rate-limit buckets in memory (${why}), so it never reads a Redis password; set a Redis URL or remove the annotation` });
  }
  // The cluster default only where the store is Redis for certain: a default Secret mounted into
  // every pod with a config file would keep those without it from starting.
  const redisSecret = issues.length > 0 ? undefined : (o.redisSecret ?? (store === 'redis' ? config.sidecar.redisPasswordSecret : undefined));
  if (redisSecret) out.set(SETTINGS.redisPasswordFile.env, `${REDIS_DIR}/${REDIS_PASSWORD_FILE}`);
  return { env: [...out], redisSecret, issues };
}

/**
 * Run the sidecar's own configuration check on the variables it will get, so a pod whose sidecar
 * would refuse to start (JWT without an audience, a burst without a rate) is refused at admission.
 * Only possible without a config file: a mounted ConfigMap may hold the missing settings.
 */
function crossCheck(env: ReadonlyArray<readonly [string, string]>, o: AnnotationOptions): { issues: Issue[]; auth?: ResolvedAuthMode } {
  const vars = Object.fromEntries(env);
  try {
    const loaded = loadConfig({
      env: vars,
      // Key and password files are Secrets mounted later: any content parses; only existence is checked.
      readFile: (p) => {
        if (p === vars[SETTINGS.apiKeyFile.env] || p === vars[SETTINGS.redisPasswordFile.env]) return '';
        throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
      },
    });
    return { issues: [], auth: loaded.auth };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const issues = err.issues.map((i) => {
      const annotation = o.envSource.get(i.setting) ?? ENV_TO_ANNOTATION.get(i.setting);
      const key = annotation ?? (i.setting in vars ? `sidecar.env.${i.setting} (webhook configuration)` : i.setting);
      return { setting: key, value: i.value, expected: i.expected.replace(/MCP_AUTH_[A-Z_]+/g, (env) => ENV_TO_ANNOTATION.get(env) ?? env) };
    });
    return { issues };
  }
}
