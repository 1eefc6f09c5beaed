/**
 * The stdio bridge in the test process, in front of a real stdio server started through the
 * webhook's wrapper (/bin/sh, mkfifo, exec) in a temporary FIFO directory: what a pod holds,
 * without the sidecar, for tests of the bridge itself. Logs are captured as parsed JSON.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { createBridge, type Bridge } from '../../sidecar/stdio/bridge.ts';
import { loadBridgeConfig } from '../../sidecar/stdio/config.ts';
import { wrapCommand } from '../../webhook/inject/stdio-wrapper.ts';
import { captureLogLines } from './log-lines.ts';
import { stopChild } from './ports.ts';
import { until } from './wait.ts';

const require = createRequire(import.meta.url);
export const EVERYTHING = join(dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')), 'dist', 'index.js');

export interface RunningBridge {
  readonly url: string;
  readonly adminUrl: string;
  readonly bridge: Bridge;
  readonly logs: Record<string, unknown>[];
  /** The current server process (restarted by `restartServer`). */
  server(): ChildProcess;
  restartServer(): void;
  close(): Promise<void>;
}

/**
 * Start the server through the wrapper and the bridge in front of it. Resolves once the bridge is
 * ready, or at once with `untilReady: false` (a test of what happens before the server answers).
 */
export async function startBridge(opts: { env?: Record<string, string>; argv?: string[]; untilReady?: boolean } = {}): Promise<RunningBridge> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bridge-'));
  const argv = opts.argv ?? [process.execPath, EVERYTHING, 'stdio'];
  let child: ChildProcess;
  const spawnServer = () => {
    const [sh, ...args] = wrapCommand(argv, dir, join(dir, 'termination-log'));
    child = spawn(sh!, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  };
  spawnServer();
  const { lines: logs, destination } = captureLogLines();
  const config = loadBridgeConfig({ MCP_STDIO_DIR: dir, MCP_STDIO_LISTEN_PORT: '0', MCP_STDIO_ADMIN_HOST: '127.0.0.1', MCP_STDIO_ADMIN_PORT: '0', MCP_STDIO_LOG_LEVEL: 'debug', ...opts.env });
  const bridge = createBridge(config, { log: pino({ level: 'debug' }, destination) });
  const { port, adminPort } = await bridge.listen();
  if (opts.untilReady !== false) await until(() => bridge.ready, 'the bridge to be ready', 20_000);
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    bridge,
    logs,
    server: () => child,
    restartServer: spawnServer,
    async close() {
      await bridge.close();
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
