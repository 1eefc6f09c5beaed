/**
 * stdio mode (`mcp-warden.dev/transport: stdio`): the MCP server speaks MCP on stdin and stdout,
 * so there is no port to put the sidecar in front of. The webhook adds, in the pod itself:
 * - an in-memory emptyDir shared by the MCP container and a bridge;
 * - a wrapper around the MCP container's command that puts its stdin and stdout on two FIFOs in
 *   that volume (stdio-wrapper.ts);
 * - the bridge (`mcp-warden-stdio`, the sidecar image running dist/stdio-bridge.mjs), which speaks
 *   MCP to the server over the FIFOs and serves Streamable HTTP on loopback;
 * and points the sidecar's upstream at the bridge, so auth, policy, limits and DLP apply unchanged.
 *
 * The webhook cannot read image configs offline, so the server's argv must be in the pod spec (the
 * container's `command`, plus `args`) or in the stdio-command annotation; otherwise the pod is
 * rejected. Images known to have no /bin/sh are rejected too.
 */
import { BRIDGE_SETTINGS, DEFAULT_STDIO_DIR } from '../../sidecar/stdio/settings.ts';
import type { WebhookConfig } from '../config.ts';
import { quote, type Issue } from '../errors.ts';
import { isObj, isStringList } from '../json.ts';
import { ANNOTATIONS } from './annotations.ts';
import { ADMIN_PORT_NAME, SIDECAR_PORT_NAME, portAllocator, reservedAdminName, type PortPlan } from './ports.ts';
import { adminProbe, sidecarSecurityContext } from './render.ts';
import { DEFAULT_TERMINATION_MESSAGE_PATH, unwrapCommand, wrapCommand } from './stdio-wrapper.ts';
import type { Container, PodSpec, Volume } from './types.ts';

/** The bridge container's name (reserved, like the sidecar's). */
export const BRIDGE_NAME = 'mcp-warden-stdio';
/** The shared volume, mounted at the same path in the MCP container and the bridge. */
export const STDIO_VOLUME = 'mcp-warden-stdio';
export const STDIO_DIR = DEFAULT_STDIO_DIR;
/** Name of the bridge's probe port. */
export const BRIDGE_PORT_NAME = 'warden-stdio';
/** The bridge runs from the sidecar image: its Node binary and the second bundle (Dockerfile.sidecar). */
export const BRIDGE_COMMAND: readonly string[] = ['/nodejs/bin/node', '/app/dist/stdio-bridge.mjs'];

/**
 * Image families that ship no /bin/sh (the wrapper cannot run there). Distroless images have no
 * shell (their :debug tags have /busybox/sh, not /bin/sh); Chainguard images have one only in
 * their -dev variants.
 */
const SHELL_LESS: ReadonlyArray<readonly [RegExp, string]> = [
  [/(^|\/)distroless\//, 'distroless images have no /bin/sh'],
  [/^cgr\.dev\/chainguard\/[^:@]+(?::(?![^@]*-dev)[^@]*)?(?:@.*)?$/, 'Chainguard images have no /bin/sh outside their -dev tags'],
];

/** What the status record keeps to undo stdio mode: the container's own command and args, as they were. */
export interface StdioStatus {
  readonly bridge: string;
  readonly listenPort: number;
  readonly adminPort: number;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
}

/** The sidecar's port plan in stdio mode plus the bridge's ports and the server's argv. */
export interface StdioPlan {
  readonly ports: PortPlan;
  readonly argv: readonly string[];
  readonly bridgeListenPort: number;
  readonly bridgeAdminPort: number;
  readonly bridgePortName: string;
}

/**
 * The server's argv as Kubernetes would build it: `command` (or, when the image's ENTRYPOINT is
 * used, the annotation standing in for it) followed by `args`. An issue when neither is known.
 */
export function stdioArgv(app: Container, appPath: string, fromAnnotation: readonly string[] | undefined): string[] | Issue {
  const command = app.command ?? undefined;
  // strip() has already put back a command that a status record saved. A wrapper still here has no
  // record: wrapping it again would save the wrapper as "the original", and taking its argv back
  // would guess; the person who removed the record knows the command.
  if (unwrapCommand(command) !== undefined) {
    return { setting: `${appPath}.command`, value: quote(command), expected: `the MCP server's own command: this is mcp-warden's stdio wrapper, and no status record (${ANNOTATIONS.status}) says what it replaced; put the container's original command back` };
  }
  const args = app.args ?? undefined;
  const hasCommand = command !== undefined && command.length > 0;
  if (hasCommand && fromAnnotation) return { setting: ANNOTATIONS.stdioCommand, value: quote(JSON.stringify(fromAnnotation)), expected: `unset: container "${app.name}" sets command already (the annotation stands in for the image's ENTRYPOINT only)` };
  const head = hasCommand ? command : fromAnnotation;
  if (!head) {
    return {
      setting: ANNOTATIONS.stdioCommand,
      value: 'unset',
      expected: `the stdio server's command: container "${app.name}" sets no command and the webhook cannot read the image's ENTRYPOINT; set command in the pod spec, or this annotation to a JSON array such as ["node", "dist/index.js", "stdio"] (args are appended)`,
    };
  }
  return [...head, ...(args ?? [])];
}

/** Why an image cannot run the wrapper, when its name says so; undefined when it may. */
export function shellLessImage(image: string | null | undefined): string | undefined {
  if (image === undefined || image === null) return undefined;
  return SHELL_LESS.find(([re]) => re.test(image))?.[1];
}

/**
 * Plan stdio mode for `app` in `spec` (a spec with no earlier injection): the server's argv, and
 * ports for the sidecar and the bridge that no container declares. `appPath` is where the pod as
 * submitted holds `app` (`spec.containers[2]`), for the issues. Returns every issue found.
 */
export function planStdio(spec: PodSpec, app: Container, appPath: string, fromAnnotation: readonly string[] | undefined, wanted: WebhookConfig['sidecar']): StdioPlan | Issue[] {
  const issues: Issue[] = [];
  const argv = stdioArgv(app, appPath, fromAnnotation);
  if (!Array.isArray(argv)) issues.push(argv);
  const noShell = shellLessImage(app.image);
  if (noShell) issues.push({ setting: `${appPath}.image`, value: quote(app.image), expected: `an image with /bin/sh and mkfifo: ${noShell}, and stdio mode wraps the server's command in /bin/sh (build the server on a base with a shell, or serve it over HTTP)` });
  const mount = (app.volumeMounts ?? []).findIndex((m) => m.mountPath === STDIO_DIR);
  if (mount >= 0) issues.push({ setting: `${appPath}.volumeMounts[${mount}].mountPath`, value: quote(STDIO_DIR), expected: `another path: ${STDIO_DIR} is reserved for mcp-warden's FIFOs` });
  // The bridge serves MCP without authentication on loopback, which only this pod shares; on the
  // host network that loopback is the node's, open to every process and hostNetwork pod there.
  if (spec.hostNetwork === true) issues.push({ setting: 'spec.hostNetwork', value: 'true', expected: `false or unset with ${ANNOTATIONS.transport} "stdio": the stdio bridge serves MCP without authentication on 127.0.0.1:${wanted.stdioListenPort}, and on the host network that is the node's loopback, reachable by every process and hostNetwork pod on the node (run the pod on the pod network, or serve MCP over HTTP)` });
  const reserved = reservedAdminName(spec);
  if (reserved) issues.push(reserved);
  if (issues.length > 0 || !Array.isArray(argv)) return issues;

  const alloc = portAllocator(spec, 'the sidecar and the stdio bridge');
  const publicPortName = alloc.name(SIDECAR_PORT_NAME);
  const bridgePortName = alloc.name(BRIDGE_PORT_NAME);
  if (publicPortName === undefined || bridgePortName === undefined) return [alloc.exhausted('port name')];
  const [listenPort, adminPort, bridgeListenPort, bridgeAdminPort] = [alloc.port(wanted.listenPort), alloc.port(wanted.adminPort), alloc.port(wanted.stdioListenPort), alloc.port(wanted.stdioAdminPort)];
  if (listenPort === undefined || adminPort === undefined || bridgeListenPort === undefined || bridgeAdminPort === undefined) return [alloc.exhausted('port number')];
  const adminPortName = ADMIN_PORT_NAME;
  const warnings = [`mcp-warden: stdio mode: the sidecar serves MCP on port name "${publicPortName}" (${listenPort}); a Service must target that name, the server itself has no port`];
  return {
    ports: { upstreamPort: bridgeListenPort, appPortIndex: -1, rename: undefined, publicPortName, adminPortName, listenPort, adminPort, warnings },
    argv,
    bridgeListenPort,
    bridgeAdminPort,
    bridgePortName,
  };
}

/** The shared volume: in memory (FIFOs hold no data on disk), and tiny. */
export function renderStdioVolume(): Volume {
  return { name: STDIO_VOLUME, emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } };
}

/** The bridge container: the sidecar's image, security context and resources, the bridge's own command and variables. */
export function renderBridge(config: WebhookConfig, p: StdioPlan, native: boolean): Container {
  const port = p.bridgeAdminPort;
  const c: Container = {
    name: BRIDGE_NAME,
    image: config.sidecar.image,
    imagePullPolicy: config.sidecar.imagePullPolicy,
    command: [...BRIDGE_COMMAND],
    ports: [{ name: p.bridgePortName, containerPort: port, protocol: 'TCP' }],
    env: [
      { name: BRIDGE_SETTINGS.dir.env, value: STDIO_DIR },
      { name: BRIDGE_SETTINGS.listenPort.env, value: String(p.bridgeListenPort) },
      { name: BRIDGE_SETTINGS.adminPort.env, value: String(port) },
    ],
    resources: structuredClone(config.sidecar.resources) as Record<string, unknown>,
    securityContext: sidecarSecurityContext(config.sidecar.runAsUser),
    // Startup and liveness on /livez: as a native sidecar the bridge starts before the MCP
    // container exists. Readiness on /readyz fails within seconds of the server exiting, so the
    // pod leaves its Service's endpoints while the MCP container restarts.
    startupProbe: adminProbe('/livez', port, 1, 30),
    livenessProbe: adminProbe('/livez', port, 10, 3),
    readinessProbe: adminProbe('/readyz', port, 2, 1),
    terminationMessagePolicy: 'FallbackToLogsOnError',
    volumeMounts: [{ name: STDIO_VOLUME, mountPath: STDIO_DIR }],
  };
  if (native) c.restartPolicy = 'Always';
  return c;
}

/** Wrap the MCP container's command and mount the volume; returns what undoing it needs. Mutates `app`. */
export function wrapApp(app: Container, p: StdioPlan): StdioStatus {
  const command = app.command ?? undefined;
  const args = app.args ?? undefined;
  const original: StdioStatus = {
    bridge: BRIDGE_NAME,
    listenPort: p.bridgeListenPort,
    adminPort: p.bridgeAdminPort,
    ...(command !== undefined ? { command } : {}),
    ...(args !== undefined ? { args } : {}),
  };
  app.command = wrapCommand(p.argv, STDIO_DIR, app.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH);
  delete app.args;
  app.volumeMounts = [...(app.volumeMounts ?? []), { name: STDIO_VOLUME, mountPath: STDIO_DIR }];
  return original;
}

/** Undo wrapApp on the MCP container. Mutates `app`. */
export function unwrapApp(app: Container, s: StdioStatus): void {
  if (s.command !== undefined) app.command = [...s.command];
  else delete app.command;
  if (s.args !== undefined) app.args = [...s.args];
  else delete app.args;
  const mounts = (app.volumeMounts ?? []).filter((m) => m.name !== STDIO_VOLUME);
  if (mounts.length > 0) app.volumeMounts = mounts;
  else delete app.volumeMounts;
}

/** A status record's stdio part, when it is one this module wrote. */
export function readStdioStatus(v: unknown): StdioStatus | undefined {
  if (!isObj(v)) return undefined;
  const s = v;
  const ok = typeof s.bridge === 'string' && typeof s.listenPort === 'number' && typeof s.adminPort === 'number' && (s.command === undefined || isStringList(s.command)) && (s.args === undefined || isStringList(s.args));
  return ok ? (s as unknown as StdioStatus) : undefined;
}
