/**
 * Named-port takeover: traffic reaches the sidecar without iptables because the sidecar takes the
 * NAME of the MCP container's port and the app's port is renamed. A Service whose `targetPort` is
 * that name then resolves to the sidecar's port (Kubernetes resolves named targetPorts per pod), so
 * existing Services route through the sidecar unchanged. Sidecar port numbers never collide with
 * any port the pod declares.
 */
import { ANNOTATIONS, IANA_SVC_NAME } from './annotations.ts';
import { quote, type Issue } from '../errors.ts';
import type { Container, PodSpec } from './types.ts';

/** Port name the sidecar's public port takes when the app's port has no name to take over. */
export const SIDECAR_PORT_NAME = 'mcp-warden';
/**
 * Port name of the sidecar's admin port (probes, metrics scrapes). Always this name, never a
 * variant: the chart's PodMonitor scrapes it by name, so a pod whose own port uses it is refused.
 */
export const ADMIN_PORT_NAME = 'warden-admin';

export interface PortPlan {
  /** The app's port number; the sidecar forwards to 127.0.0.1 on it. */
  readonly upstreamPort: number;
  /** Index of the app's declared port in its container, or -1 when the port is not declared. */
  readonly appPortIndex: number;
  /** The app port's old name and new name, when it had a name the sidecar takes over. */
  readonly rename: { readonly from: string; readonly to: string } | undefined;
  readonly publicPortName: string;
  readonly adminPortName: string;
  readonly listenPort: number;
  readonly adminPort: number;
  readonly warnings: readonly string[];
}

/** Init containers and containers, in that order. */
function allContainers(spec: PodSpec): Container[] {
  return [...(spec.initContainers ?? []), ...spec.containers];
}

/** A name for the app's port once the sidecar has taken its old one: `mcp` -> `mcp-app`, within 15 chars; undefined when every candidate is taken. */
export function renamedPortName(name: string, taken: ReadonlySet<string>): string | undefined {
  for (let i = 0; i < 100; i++) {
    const suffix = i === 0 ? '-app' : `-app${i + 1}`;
    const stem = name.slice(0, 15 - suffix.length).replace(/-+$/, '');
    const candidate = `${stem}${suffix}`;
    if (IANA_SVC_NAME.test(candidate) && !taken.has(candidate)) return candidate;
  }
  return undefined;
}

/** `base`, or `base` with a number when a port of the pod already has that name; undefined when none is free. */
function freeName(base: string, taken: ReadonlySet<string>): string | undefined {
  if (!taken.has(base)) return base;
  for (let i = 2; i < 100; i++) if (!taken.has(`${base.slice(0, 13)}${i}`)) return `${base.slice(0, 13)}${i}`;
  return undefined;
}

/** The first port from `start` up that no container declares (wrapping to 1024); undefined when none is free. */
function freePort(start: number, used: ReadonlySet<number>): number | undefined {
  for (let p = start; p <= 65535; p++) if (!used.has(p)) return p;
  for (let p = 1024; p < start; p++) if (!used.has(p)) return p;
  return undefined;
}

/** Names and numbers for mcp-warden's ports that no container of the pod declares, each handed out once. */
export interface PortAllocator {
  /** `base`, or `base` with a number (see freeName); undefined when every candidate is taken. */
  name(base: string): string | undefined;
  /** A name for the app's port once the sidecar takes its old one (see renamedPortName). */
  renamed(old: string): string | undefined;
  /** The first free number from `start` (see freePort). */
  port(start: number): number | undefined;
  /** The refusal when the pod declares every candidate: `what` ran out. */
  exhausted(what: string): Issue;
}

/**
 * An allocator over `spec` (a spec with no earlier injection), with `reservedPorts` taken too
 * (the app's undeclared port); `who` names what the ports are for in the refusal. The admin port's
 * name is always taken: it is the admin port's alone.
 */
export function portAllocator(spec: PodSpec, who: string, reservedPorts: readonly number[] = []): PortAllocator {
  const usedNames = new Set<string>([ADMIN_PORT_NAME]);
  const usedPorts = new Set<number>(reservedPorts);
  for (const c of allContainers(spec)) {
    for (const p of c.ports ?? []) {
      if (p.name) usedNames.add(p.name);
      usedPorts.add(p.containerPort);
    }
  }
  const take = <T>(used: Set<T>, v: T | undefined): T | undefined => {
    if (v !== undefined) used.add(v);
    return v;
  };
  return {
    name: (base) => take(usedNames, freeName(base, usedNames)),
    renamed: (old) => take(usedNames, renamedPortName(old, usedNames)),
    port: (start) => take(usedPorts, freePort(start, usedPorts)),
    // A pod that declares nearly every name or number leaves none for mcp-warden: refused, named.
    exhausted: (what) => ({ setting: 'spec.containers[*].ports', value: `${usedPorts.size} ports, ${usedNames.size} names`, expected: `a free ${what} for ${who} (the pod declares them all)` }),
  };
}

/** The first port of the pod (a spec with no earlier injection) that uses the admin port's reserved name. */
export function reservedAdminName(spec: PodSpec): Issue | undefined {
  for (const list of ['initContainers', 'containers'] as const) {
    for (const [i, c] of (spec[list] ?? []).entries()) {
      const j = (c.ports ?? []).findIndex((p) => p.name === ADMIN_PORT_NAME);
      if (j >= 0) return { setting: `spec.${list}[${i}].ports[${j}].name`, value: quote(ADMIN_PORT_NAME), expected: `another port name: "${ADMIN_PORT_NAME}" is reserved for the sidecar's admin port (metrics scrapes select it by name)` };
    }
  }
  return undefined;
}

/**
 * Choose the app port and the sidecar's ports for `container` in `spec` (a spec with no earlier
 * injection). Returns an issue instead when the app port cannot be found.
 */
export function planPorts(spec: PodSpec, container: Container, hint: number | string | undefined, wanted: { listenPort: number; adminPort: number }): PortPlan | Issue {
  const ports = container.ports ?? [];
  let index: number;
  if (typeof hint === 'number') index = ports.findIndex((p) => p.containerPort === hint);
  else if (typeof hint === 'string') {
    index = ports.findIndex((p) => p.name === hint);
    if (index < 0) return { setting: ANNOTATIONS.upstreamPort, value: quote(hint), expected: `the name of a port of container "${container.name}" (${ports.map((p) => p.name ?? p.containerPort).join(', ') || 'it declares none'})` };
  } else {
    index = ports.findIndex((p) => p.name === 'mcp');
    if (index < 0) index = ports.findIndex((p) => p.name === 'http');
    if (index < 0 && ports.length > 0) index = 0;
    if (index < 0) return { setting: ANNOTATIONS.upstreamPort, value: 'unset', expected: `a port number or name: container "${container.name}" declares no ports to take over` };
  }
  const upstreamPort = index >= 0 ? ports[index]!.containerPort : (hint as number);

  const reserved = reservedAdminName(spec);
  if (reserved) return reserved;
  const alloc = portAllocator(spec, 'the sidecar', [upstreamPort]);
  const warnings: string[] = [];
  const oldName = index >= 0 ? ports[index]!.name : undefined;
  let rename: PortPlan['rename'];
  let publicPortName: string | undefined;
  if (oldName) {
    const to = alloc.renamed(oldName);
    if (to === undefined) return alloc.exhausted(`port name derived from "${oldName}"`);
    rename = { from: oldName, to };
    publicPortName = oldName;
    warnings.push(`mcp-warden: the sidecar now serves port name "${oldName}"; a Service whose targetPort is the number ${upstreamPort} still reaches container "${container.name}" directly, bypassing authentication: target the name "${oldName}" instead`);
  } else {
    publicPortName = alloc.name(SIDECAR_PORT_NAME);
    if (publicPortName === undefined) return alloc.exhausted(`port name derived from "${SIDECAR_PORT_NAME}"`);
    warnings.push(`mcp-warden: port ${upstreamPort} of container "${container.name}" has no name to take over; a Service must target port name "${publicPortName}" to reach the sidecar, and one targeting ${upstreamPort} bypasses authentication`);
  }
  const adminPortName = ADMIN_PORT_NAME;
  const listenPort = alloc.port(wanted.listenPort);
  const adminPort = alloc.port(wanted.adminPort);
  if (listenPort === undefined || adminPort === undefined) return alloc.exhausted('port number');
  return { upstreamPort, appPortIndex: index, rename, publicPortName, adminPortName, listenPort, adminPort, warnings };
}
