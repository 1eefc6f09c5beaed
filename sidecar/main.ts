/**
 * The sidecar's only impure entry point: environment and signals -> loadConfig -> createSidecar ->
 * listen. A bad configuration exits with code 2 and one message naming every bad setting, and so
 * does a listener that cannot bind (one line naming the setting and the address); SIGTERM drains
 * and exits 0.
 */
import { readFileSync } from 'node:fs';
import { loadConfig, type Config } from './config.ts';
import { ConfigError } from './errors.ts';
import { listenFailure } from './listen-error.ts';
import { createLoggers, createStdoutDestination } from './log.ts';
import { createSidecar, type Sidecar } from './server.ts';
import { describeAuth } from './startup.ts';

/** Configuration problems end the process with code 2 and one message; anything else is a bug. */
function orExit2<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`mcp-warden: ${err.message}\n`);
    process.exit(2);
  }
}

const config: Config = orExit2(() => loadConfig({ env: process.env, readFile: (p) => readFileSync(p, 'utf8') }));
const { log: logger, audit, request: requestLog } = createLoggers({ level: config.logLevel, destination: createStdoutDestination() });
const sidecar: Sidecar = orExit2(() => createSidecar(config, { logger, audit, requestLog }));
// A port in use or an address this host lacks is a setting to fix: one line and exit 2, as above.
const { port, adminPort } = await sidecar.listen().catch((err: unknown) => {
  const failure = listenFailure(err, config);
  if (failure === undefined) throw err;
  process.stderr.write(`mcp-warden: ${failure.message}\n`);
  process.exit(2);
});
const auth = describeAuth(config);
if (auth.warning) logger.warn(auth.warning);
logger.info({ port, adminPort, upstream: config.upstreamUrl, auth: auth.summary }, 'mcp-warden sidecar started');

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  sidecar.drain().then(
    () => {
      logger.info('stopped');
      logger.flush();
      process.exit(0);
    },
    (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      logger.flush();
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
