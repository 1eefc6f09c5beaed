/**
 * The shape check: every field the injector reads has the JSON type it expects, or the pod is
 * rejected with one message naming each bad field by its path (`spec.containers[0]`,
 * `spec.containers[1].ports`). Runs before anything else reads the pod, so a malformed object
 * (the CLI reads raw YAML; a direct caller can send anything) gets a clear answer instead of a
 * TypeError, a stack trace or a 500. Only what inject reads is checked; the API server validates
 * the rest of the pod itself. An optional field that is null counts as unset, as the API server
 * decodes it (YAML's empty `metadata:` is null).
 */
import type { Issue } from '../errors.ts';
import { PROBES } from './types.ts';
import { isObj } from '../json.ts';

/** A pod with thousands of bad items gets a readable message: the first few problems, then a count. */
export const MAX_SHAPE_ISSUES = 10;

/** Unset, as the API server reads an optional field: missing or null. */
const absent = (v: unknown): v is null | undefined => v === undefined || v === null;
/** `a.b` for identifier keys, `a["mcp-warden.dev/x"]` for the rest, so a path reads as it is written. */
const key = (path: string, k: string) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`);

/** The value as JSON, shortened: a type error must show `5` apart from `"5"`, and `null` as null. */
function shown(v: unknown): string {
  if (v === undefined) return 'unset';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 120 ? `${s.slice(0, 120)}...` : s;
}

class Collector {
  readonly issues: Issue[] = [];
  private extra = 0;
  add(setting: string, value: unknown, expected: string): void {
    if (this.issues.length < MAX_SHAPE_ISSUES) this.issues.push({ setting, value: shown(value), expected });
    else this.extra++;
  }
  done(): Issue[] {
    if (this.extra > 0) this.issues.push({ setting: '(further fields)', value: `${this.extra} more`, expected: 'the types above (fix the listed fields first)' });
    return this.issues;
  }
}

function stringMap(c: Collector, path: string, v: unknown): void {
  if (absent(v)) return;
  if (!isObj(v)) return c.add(path, v, 'a map of string keys to string values');
  for (const [k, x] of Object.entries(v)) if (typeof x !== 'string') c.add(key(path, k), x, 'a string (quote the value in YAML)');
}

function optionalString(c: Collector, path: string, v: unknown): void {
  if (!absent(v) && typeof v !== 'string') c.add(path, v, 'a string');
}

/** A list of strings (a container's command or args), each bad item named by its index. */
function optionalStrings(c: Collector, path: string, v: unknown): void {
  if (absent(v)) return;
  if (!Array.isArray(v)) return c.add(path, v, 'a list of strings');
  v.forEach((x: unknown, i) => {
    if (typeof x !== 'string') c.add(`${path}[${i}]`, x, 'a string (quote the value in YAML)');
  });
}

function volumeMount(c: Collector, path: string, v: unknown): void {
  if (!isObj(v)) return c.add(path, v, 'a volume mount (an object with name and mountPath)');
  if (typeof v.name !== 'string' || v.name === '') c.add(`${path}.name`, v.name, 'a volume name (a non-empty string)');
  if (typeof v.mountPath !== 'string' || v.mountPath === '') c.add(`${path}.mountPath`, v.mountPath, 'a path (a non-empty string)');
}

function isPort(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;
}

/** A probe or lifecycle handler: its httpGet and tcpSocket ports are read for the port takeover. */
function handler(c: Collector, path: string, v: unknown, what: string): void {
  if (absent(v)) return;
  if (!isObj(v)) return c.add(path, v, `an object (${what})`);
  for (const h of ['httpGet', 'tcpSocket'] as const) {
    const x = v[h];
    if (absent(x)) continue;
    if (!isObj(x)) c.add(`${path}.${h}`, x, 'an object');
    else if (!absent(x.port) && typeof x.port !== 'string' && !isPort(x.port)) c.add(`${path}.${h}.port`, x.port, 'a port number from 1 to 65535 or a port name');
  }
}

function container(c: Collector, path: string, v: unknown): void {
  if (!isObj(v)) return c.add(path, v, 'a container (an object with a name)');
  if (typeof v.name !== 'string' || v.name === '') c.add(`${path}.name`, v.name, 'a container name (a non-empty string)');
  // Read in stdio mode (the wrapper around the MCP container). The mode and the MCP container are
  // decided from the annotations later, so every container is checked; the API server refuses
  // these types anyway, so a real pod never fails here.
  optionalString(c, `${path}.image`, v.image);
  optionalStrings(c, `${path}.command`, v.command);
  optionalStrings(c, `${path}.args`, v.args);
  optionalString(c, `${path}.terminationMessagePath`, v.terminationMessagePath);
  list(c, `${path}.volumeMounts`, v.volumeMounts, false, (p, m) => volumeMount(c, p, m), 'volume mounts');
  const ports = v.ports;
  if (!absent(ports)) {
    if (!Array.isArray(ports)) c.add(`${path}.ports`, ports, 'a list of container ports');
    else {
      ports.forEach((p: unknown, i) => {
        const pp = `${path}.ports[${i}]`;
        if (!isObj(p)) return c.add(pp, p, 'a container port (an object with containerPort)');
        if (!isPort(p.containerPort)) c.add(`${pp}.containerPort`, p.containerPort, 'a port number from 1 to 65535');
        optionalString(c, `${pp}.name`, p.name);
      });
    }
  }
  for (const probe of PROBES) handler(c, `${path}.${probe}`, v[probe], 'a probe');
  const lc = v.lifecycle;
  if (!absent(lc)) {
    if (!isObj(lc)) c.add(`${path}.lifecycle`, lc, 'an object (postStart, preStop)');
    else for (const h of ['postStart', 'preStop'] as const) handler(c, `${path}.lifecycle.${h}`, lc[h], 'a lifecycle handler');
  }
}

function list(c: Collector, path: string, v: unknown, required: boolean, item: (path: string, v: unknown) => void, what: string): void {
  if (absent(v) && !required) return;
  if (!Array.isArray(v)) return c.add(path, v, `a list of ${what}`);
  v.forEach((x: unknown, i) => item(`${path}[${i}]`, x));
}

/**
 * Every problem with the types of the fields inject() reads, each named by its path in the pod
 * (at most MAX_SHAPE_ISSUES, then a count); empty when the pod can be read safely.
 */
export function podShapeIssues(pod: unknown): Issue[] {
  const c = new Collector();
  if (!isObj(pod)) {
    c.add('(pod)', pod, 'a Pod object (metadata and spec)');
    return c.done();
  }
  const meta = pod.metadata;
  if (!absent(meta)) {
    if (!isObj(meta)) c.add('metadata', meta, 'an object (ObjectMeta)');
    else {
      for (const f of ['name', 'generateName', 'namespace'] as const) optionalString(c, `metadata.${f}`, meta[f]);
      stringMap(c, 'metadata.labels', meta.labels);
      stringMap(c, 'metadata.annotations', meta.annotations);
    }
  }
  const spec = pod.spec;
  if (!isObj(spec)) {
    c.add('spec', spec, 'a pod spec (an object with a list of containers)');
    return c.done();
  }
  list(c, 'spec.containers', spec.containers, true, (p, x) => container(c, p, x), 'containers');
  list(c, 'spec.initContainers', spec.initContainers, false, (p, x) => container(c, p, x), 'containers');
  list(
    c,
    'spec.volumes',
    spec.volumes,
    false,
    (p, x) => {
      if (!isObj(x)) c.add(p, x, 'a volume (an object with a name)');
      else if (typeof x.name !== 'string' || x.name === '') c.add(`${p}.name`, x.name, 'a volume name (a non-empty string)');
    },
    'volumes',
  );
  if (!absent(spec.hostNetwork) && typeof spec.hostNetwork !== 'boolean') c.add('spec.hostNetwork', spec.hostNetwork, 'true or false');
  return c.done();
}
