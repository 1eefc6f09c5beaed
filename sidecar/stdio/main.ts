/**
 * The stdio bridge's only impure entry point: environment and signals -> loadBridgeConfig ->
 * createBridge -> listen. A bad configuration exits with code 2 and one message naming every bad
 * variable; SIGTERM drains, closes the server's stdin (it sees EOF) and exits 0.
 */
import { ConfigError } from '../errors.ts';
import { createLoggers } from '../log.ts';
import { createBridge } from './bridge.ts';
import { loadBridgeConfig, type BridgeConfig } from './config.ts';

let config: BridgeConfig;
try {
  config = loadBridgeConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`mcp-warden stdio bridge: ${err.message}\n`);
  process.exit(2);
}
const log = createLoggers({ level: config.logLevel }).log.child({ component: 'stdio-bridge' });
const bridge = createBridge(config, { log });
const { port, adminPort } = await bridge.listen();
log.info({ port, adminPort, dir: config.dir }, 'mcp-warden stdio bridge started');

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  bridge.drain().then(
    () => {
      log.info('stopped');
      log.flush();
      process.exit(0);
    },
    (err: unknown) => {
      log.error({ err }, 'shutdown failed');
      log.flush();
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
