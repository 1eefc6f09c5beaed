/**
 * The `mcp-warden.dev/status` record: what an injection added or changed, so a later pass can undo
 * exactly that (strip) and render again. This is what makes re-invocation idempotent and lets a
 * changed annotation take effect on the next pass.
 */
import { ANNOTATIONS, LABELS } from './annotations.ts';
import { renameProbePorts } from './probes.ts';
import { SIDECAR_NAME } from './render.ts';
import { BRIDGE_NAME, readStdioStatus, unwrapApp, type StdioStatus } from './stdio.ts';
import { quote, type Issue } from '../errors.ts';
import { isObj, isStringList } from '../json.ts';
import type { PodLike, PodSpec } from './types.ts';

export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

export interface InjectionStatus {
  readonly version: string;
  readonly sidecar: string;
  /** True when the sidecar is a native sidecar (init container with restartPolicy Always). */
  readonly native: boolean;
  /** The MCP container. */
  readonly container: string;
  readonly upstreamPort: number;
  readonly listenPort: number;
  readonly adminPort: number;
  /** App port renamed so the sidecar could take the name. */
  readonly renamedPorts: ReadonlyArray<{ readonly from: string; readonly to: string }>;
  /** Handlers of the MCP container rewritten to the new port name. */
  readonly rewrittenProbes: readonly string[];
  readonly volumes: readonly string[];
  /** Variable names set on the sidecar (values stay in the pod spec). */
  readonly env: readonly string[];
  /** Whether the webhook set kubectl.kubernetes.io/default-container. */
  readonly defaultContainer: boolean;
  /** Whether the webhook set the mcp-warden.dev/injected label (absent in records before it existed). */
  readonly injectedLabel?: boolean;
  /** stdio mode only: the bridge and the MCP container's own command and args. */
  readonly stdio?: StdioStatus;
}

/** Read a status annotation; undefined when the value is not a record this webhook wrote. */
export function readStatus(raw: string): InjectionStatus | undefined {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!isObj(v)) return undefined;
  const s = v;
  const ok =
    typeof s.container === 'string' &&
    typeof s.native === 'boolean' &&
    Array.isArray(s.renamedPorts) &&
    s.renamedPorts.every((r) => isObj(r) && typeof r.from === 'string' && typeof r.to === 'string') &&
    isStringList(s.volumes) &&
    typeof s.defaultContainer === 'boolean' &&
    (s.injectedLabel === undefined || typeof s.injectedLabel === 'boolean') &&
    (s.stdio === undefined || readStdioStatus(s.stdio) !== undefined);
  return ok ? (s as unknown as InjectionStatus) : undefined;
}

/**
 * Containers named like the sidecar (or the stdio bridge) that no recorded injection put where they
 * are: every one when there is no valid status record (for the bridge: no stdio record); with one,
 * all but a single container in the list the record names (init containers when native). strip()
 * would remove them silently, so inject() refuses the pod instead, naming each (a privileged
 * container must not vanish or pass as ours).
 */
export function unrecordedSidecars(spec: PodSpec, status: InjectionStatus | undefined): Issue[] {
  const out: Issue[] = [];
  const reserved = [
    [SIDECAR_NAME, 'the injected sidecar', status !== undefined],
    [BRIDGE_NAME, 'the injected stdio bridge', status?.stdio !== undefined],
  ] as const;
  for (const [name, what, hasRecord] of reserved) {
    let recorded = false;
    for (const [list, native] of [['initContainers', true], ['containers', false]] as const) {
      (spec[list] ?? []).forEach((c, i) => {
        if (c.name !== name) return;
        if (hasRecord && status!.native === native && !recorded) {
          recorded = true;
          return;
        }
        out.push({ setting: `spec.${list}[${i}].name`, value: quote(c.name), expected: `another name: "${name}" is reserved for ${what}, and no earlier injection recorded in ${ANNOTATIONS.status} put this container there` });
      });
    }
  }
  return out;
}

/**
 * Undo a recorded injection in place: remove the sidecar and its volumes, give the app its port
 * name back, point its handlers at it again, and drop the annotations and the label the webhook wrote.
 */
export function strip(pod: PodLike, status: InjectionStatus | undefined): void {
  const spec = pod.spec;
  const ours = (c: { name: string }) => c.name === SIDECAR_NAME || c.name === BRIDGE_NAME;
  spec.containers = spec.containers.filter((c) => !ours(c));
  if (spec.initContainers?.some(ours)) {
    spec.initContainers = spec.initContainers.filter((c) => !ours(c));
    if (spec.initContainers.length === 0) delete spec.initContainers;
  }
  const ann = pod.metadata?.annotations;
  if (ann) delete ann[ANNOTATIONS.status];
  if (!status) return;
  if (spec.volumes?.some((v) => status.volumes.includes(v.name))) {
    spec.volumes = spec.volumes.filter((v) => !status.volumes.includes(v.name));
    if (spec.volumes.length === 0) delete spec.volumes;
  }
  const app = spec.containers.find((c) => c.name === status.container);
  if (app) {
    for (const { from, to } of status.renamedPorts) {
      for (const p of app.ports ?? []) if (p.name === to) p.name = from;
      renameProbePorts(app, to, from);
    }
    if (status.stdio) unwrapApp(app, status.stdio);
  }
  if (ann && status.defaultContainer) delete ann[DEFAULT_CONTAINER_ANNOTATION];
  const labels = pod.metadata?.labels;
  if (labels && status.injectedLabel) {
    delete labels[LABELS.injected];
    if (Object.keys(labels).length === 0) delete pod.metadata!.labels;
  }
}
