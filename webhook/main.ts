/**
 * The webhook process (dist/webhook.mjs): env -> config -> cluster facts -> TLS -> buildApp -> listen.
 * The only impure entry. Exit codes: 0 after SIGTERM/SIGINT, 1 on a start failure, 2 on bad config.
 *
 * With arguments it is the command line instead (webhook/cli.ts), so the webhook image runs both:
 * the chart's Deployment passes none, `docker run -i IMAGE inject -f - < app.yaml` passes some.
 */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { ConfigError } from '../sidecar/errors.ts';
import { buildApp } from './app.ts';
import { runCliProcess } from './cli.ts';
import { resolveNativeSidecar } from './cluster.ts';
import { parseWebhookConfigText, type WebhookConfig } from './config.ts';
import { createK8s, defaultKubeConfig, type K8s } from './k8s.ts';
import { createWebhookMetrics } from './metrics.ts';
import { describeCert, type CertPair } from './tls/generate.ts';
import { startSelfManagedTls } from './tls/maintain.ts';
import { createCertReloader } from './tls/reload.ts';
import { WARDEN_VERSION } from './version.ts';

const CONFIG_PATH_DEFAULT = '/etc/mcp-warden/config.yaml';
/** Time to finish in-flight reviews after SIGTERM; the API server's own webhook timeout is at most 30 s. */
const DRAIN_MS = 10_000;

async function main(): Promise<void> {
  const log = pino({ name: 'mcp-warden-webhook', level: process.env.LOG_LEVEL ?? 'info' });
  const path = process.env.MCP_WARDEN_WEBHOOK_CONFIG ?? CONFIG_PATH_DEFAULT;
  let config: WebhookConfig;
  try {
    config = parseWebhookConfigText(readFileSync(path, 'utf8'), path);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    console.error(`cannot read ${path} (MCP_WARDEN_WEBHOOK_CONFIG): ${(err as Error).message}\n(for the command line, give arguments: inject -f FILE|-)`);
    process.exit(2);
  }
  const namespace = process.env.POD_NAMESPACE ?? 'default';
  const metrics = createWebhookMetrics();

  const needsApi = config.tls.mode === 'self-managed' || config.nativeSidecar === 'auto';
  const k8s: K8s | undefined = needsApi ? createK8s(defaultKubeConfig()) : undefined;
  const native = await resolveNativeSidecar(config.nativeSidecar, k8s, (err) => log.warn({ err: err.message }, 'cannot read the cluster version; injecting regular sidecar containers'));
  log.info({ native: native.native, clusterVersion: native.version, mode: config.nativeSidecar }, 'native sidecar decision');

  let draining = false;
  let apply: (pair: CertPair) => void = () => {};
  const onChange = (pair: CertPair) => {
    apply(pair);
    metrics.certReloads.inc({ outcome: 'ok' });
    metrics.certExpiry.set(describeCert(pair.cert).notAfter.getTime() / 1000);
    log.info({ notAfter: describeCert(pair.cert).notAfter.toISOString() }, 'serving certificate reloaded');
  };
  const onError = (err: Error) => {
    metrics.certReloads.inc({ outcome: 'error' });
    log.error({ err: err.message }, 'TLS upkeep failed; still serving the previous certificate');
  };
  let initial: CertPair;
  let stopTls: () => void;
  if (config.tls.mode === 'provided') {
    const r = createCertReloader({ certFile: config.tls.certFile, keyFile: config.tls.keyFile, onChange, onError });
    initial = r.current();
    stopTls = () => r.close();
  } else {
    const m = await startSelfManagedTls({
      k8s: k8s!,
      namespace,
      ...config.tls,
      onChange,
      onError,
      onPatched: (n) => {
        metrics.caBundlePatches.inc(n);
        log.info({ webhooks: n, config: config.tls.webhookConfigName }, 'caBundle patched');
      },
    });
    log.info({ source: m.initial.source, secret: config.tls.secretName }, 'serving certificate ready');
    initial = m.initial;
    stopTls = () => m.stop();
  }
  metrics.certExpiry.set(describeCert(initial.cert).notAfter.getTime() / 1000);

  const app = buildApp(config, { nativeSidecar: native.native, namespace, https: initial, logger: log, metrics, ready: () => !draining });
  apply = (pair) => (app.server as unknown as { setSecureContext(o: CertPair): void }).setSecureContext(pair);
  await app.listen({ host: '0.0.0.0', port: config.server.port });
  log.info({ port: config.server.port, version: WARDEN_VERSION, pod: process.env.POD_NAME }, 'mcp-warden webhook listening');

  const shutdown = (signal: string) => {
    if (draining) return;
    draining = true;
    log.info({ signal }, 'draining');
    stopTls();
    const deadline = setTimeout(() => process.exit(0), DRAIN_MS);
    deadline.unref();
    app.close().then(
      () => process.exit(0),
      () => process.exit(0),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

if (process.argv.length > 2) {
  process.exitCode = await runCliProcess(process.argv.slice(2));
} else {
  main().catch((err: unknown) => {
    console.error(`mcp-warden webhook failed to start: ${(err as Error)?.stack ?? String(err)}`);
    process.exit(1);
  });
}
