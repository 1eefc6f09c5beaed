/**
 * The stdio bridge's settings table: the contract between the bridge and the webhook, as
 * sidecar/settings.ts is for the sidecar. The webhook renders the bridge container's variables from
 * these entries, so it can never set a variable the bridge does not know. The value parsers are
 * the sidecar's own (int, port, text, oneOf), so both programs read a value the same way. The
 * bridge reads variables only: `file`, which the shared Setting shape requires, is not used.
 */
import { LOG_LEVELS, int, oneOf, port, text, type Setting } from '../settings.ts';

/** Every bridge variable starts with this; any other variable that does is a mistake (stdio/config.ts). */
export const BRIDGE_ENV_PREFIX = 'MCP_STDIO_';

/** Where the webhook mounts the shared in-memory volume that holds the two FIFOs. */
export const DEFAULT_STDIO_DIR = '/var/run/mcp-warden/stdio';

export const BRIDGE_SETTINGS = {
  dir: text({ env: 'MCP_STDIO_DIR', default: DEFAULT_STDIO_DIR, file: 'dir', pattern: /^\/[^\0]*$/, expected: 'an absolute directory path', doc: "Directory holding the FIFOs `in` (the server's stdin) and `out` (its stdout), created by the MCP container's wrapper." }),
  listenPort: port({ env: 'MCP_STDIO_LISTEN_PORT', file: 'listen.port', default: 9902, doc: 'Streamable HTTP port on 127.0.0.1 (loopback only): the sidecar\'s upstream.' }),
  adminPort: port({ env: 'MCP_STDIO_ADMIN_PORT', file: 'admin.port', default: 9903, doc: 'Port of /livez and /readyz; /readyz is 503 while the stdio server is not running.' }),
  adminHost: text({ env: 'MCP_STDIO_ADMIN_HOST', file: 'admin.host', default: '0.0.0.0', expected: 'an IP address or host name', pattern: /^[A-Za-z0-9.:\-[\]]+$/, doc: 'Address of /livez and /readyz (probes reach it on the pod IP).' }),
  requestTimeoutMs: int({ env: 'MCP_STDIO_REQUEST_TIMEOUT_MS', file: 'requestTimeoutMs', default: 60_000, min: 100, max: 3_600_000, unit: 'milliseconds', doc: 'Longest wait for the stdio server to answer one request; progress notifications restart the wait.' }),
  maxSessions: int({ env: 'MCP_STDIO_MAX_SESSIONS', file: 'maxSessions', default: 1000, min: 1, max: 100_000, unit: 'sessions', doc: 'Open 2025-era sessions; at the cap the least recently used idle one is closed, or a new one refused (503).' }),
  sessionIdleMs: int({ env: 'MCP_STDIO_SESSION_IDLE_MS', file: 'sessionIdleMs', default: 1_800_000, min: 1_000, max: 86_400_000, unit: 'milliseconds', doc: 'A 2025-era session with no request and no open stream for this long is closed.' }),
  shutdownGraceMs: int({ env: 'MCP_STDIO_SHUTDOWN_GRACE_MS', file: 'shutdown.graceMs', default: 10_000, min: 0, max: 3_600_000, unit: 'milliseconds', doc: 'Drain deadline after SIGTERM.' }),
  logLevel: oneOf({ env: 'MCP_STDIO_LOG_LEVEL', file: 'log.level', default: 'info', values: LOG_LEVELS, doc: 'pino log level.' }),
} as const;

export type BridgeSettingKey = keyof typeof BRIDGE_SETTINGS;
type ValueOf<S> = S extends Setting<infer T, true> ? T : never;

/** The typed values of every bridge setting (each has a default). */
export type BridgeSettings = { readonly [K in BridgeSettingKey]: ValueOf<(typeof BRIDGE_SETTINGS)[K]> };
