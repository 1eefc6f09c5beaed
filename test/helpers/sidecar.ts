/**
 * A sidecar in the test process, built from settings exactly as main.ts builds it from the
 * environment, listening on port 0 on loopback, with its log lines captured as parsed JSON.
 */
import { readFileSync } from 'node:fs';
import { loadConfig, type Config } from '../../sidecar/config.ts';
import { createLoggers } from '../../sidecar/log.ts';
import { createSidecar, type Sidecar, type SidecarDeps } from '../../sidecar/server.ts';
import { captureLogLines } from './log-lines.ts';

export interface RunningSidecar {
  readonly url: string;
  readonly adminUrl: string;
  readonly config: Config;
  readonly sidecar: Sidecar;
  /** Every log line so far, parsed. */
  readonly logs: Record<string, unknown>[];
  /** Raw log text (to assert that a secret never appears). */
  rawLogs(): string;
  close(): Promise<void>;
}

export async function startSidecar(env: Record<string, string>, deps: Partial<Omit<SidecarDeps, 'logger' | 'audit'>> = {}): Promise<RunningSidecar> {
  const config = loadConfig({
    env: { MCP_AUTH_LISTEN_HOST: '127.0.0.1', MCP_AUTH_LISTEN_PORT: '0', MCP_AUTH_ADMIN_HOST: '127.0.0.1', MCP_AUTH_ADMIN_PORT: '0', MCP_AUTH_LOG_LEVEL: 'info', ...env },
    readFile: (p) => readFileSync(p, 'utf8'),
  });
  const captured = captureLogLines();
  const { log: logger, audit, request: requestLog } = createLoggers({ level: config.logLevel, destination: captured.destination });
  const sidecar = createSidecar(config, { ...deps, logger, audit, requestLog });
  const { port, adminPort } = await sidecar.listen();
  return {
    url: `http://127.0.0.1:${port}`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    config,
    sidecar,
    logs: captured.lines,
    rawLogs: captured.raw,
    close: () => sidecar.close(),
  };
}
