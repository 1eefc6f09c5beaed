/**
 * buildApp(config, deps): the webhook's fastify routes. Never listens, never reads env: main.ts
 * does that; tests build it with explicit deps and listen on port 0.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { review } from './admission.ts';
import type { WebhookConfig } from './config.ts';
import { WEBHOOK_ERR } from './errors.ts';
import { describeSkip } from './inject/decide.ts';
import { createWebhookMetrics, type WebhookMetrics } from './metrics.ts';

/** AdmissionReviews carry one object; the API server's own request limit is 3 MiB. */
export const BODY_LIMIT = 3 * 1024 * 1024;

export interface AppDeps {
  /** Whether native sidecars are rendered, decided once at start (see main.ts). */
  readonly nativeSidecar: boolean;
  /** The webhook's own namespace (never mutated). */
  readonly namespace?: string | undefined;
  /** TLS key and certificate (PEM); omit for plain HTTP (tests with app.inject). Replace later with `app.server.setSecureContext`. */
  readonly https?: { readonly key: string | Buffer; readonly cert: string | Buffer } | undefined;
  readonly logger?: Logger | undefined;
  readonly metrics?: WebhookMetrics | undefined;
  /** Readiness beyond "serving": e.g. TLS material loaded and not draining. */
  readonly ready?: (() => boolean) | undefined;
}

export function buildApp(config: WebhookConfig, deps: AppDeps): FastifyInstance {
  const metrics = deps.metrics ?? createWebhookMetrics({ defaultMetrics: false });
  const log = deps.logger;
  const opts = { nativeSidecar: deps.nativeSidecar, webhookNamespace: deps.namespace };
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    // Decisions are logged once below; per-request access logs would double every line.
    logger: false,
    return503OnClosing: true,
    ...(deps.https ? { https: { key: deps.https.key, cert: deps.https.cert, minVersion: 'TLSv1.2' as const } } : {}),
  }) as unknown as FastifyInstance;

  app.setErrorHandler((err: { statusCode?: number; code?: string; message: string }, _req, reply) => {
    // Malformed JSON, bodies over the limit, wrong content types: a clear message, never a crash.
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    // A 500 is the webhook's own fault, counted apart from bad requests so an alert can page on it.
    metrics.admissions.inc({ result: status === 500 ? 'error' : 'invalid' });
    if (status === 500) log?.error({ err }, 'admission failed');
    void reply.code(status).send({ code: status === 500 ? 'ERR_WEBHOOK_INTERNAL' : WEBHOOK_ERR.REVIEW_INVALID, message: status === 500 ? 'internal error' : `${err.code ?? 'error'}: ${err.message}` });
  });

  app.post('/mutate', async (req, reply) => {
    const end = metrics.duration.startTimer();
    const out = review(req.body, config, opts);
    end();
    metrics.admissions.inc({ result: out.result });
    const d = out.detail;
    if ('action' in d && d.action === 'skipped') {
      metrics.skips.inc({ reason: d.reason });
      log?.info({ uid: out.uid, namespace: out.namespace, pod: out.pod, reason: d.reason }, `skipped: ${describeSkip(d.reason, out.namespace ?? '')}`);
    } else if ('action' in d && d.action === 'rejected') {
      log?.info({ uid: out.uid, namespace: out.namespace, pod: out.pod, code: d.error.code }, d.error.message);
    } else if ('action' in d && d.action === 'injected') {
      log?.info({ uid: out.uid, namespace: out.namespace, pod: out.pod, ops: d.patch.length }, d.patch.length > 0 ? 'injected' : 'already injected, unchanged');
    } else {
      log?.warn({ uid: out.uid, message: d.message }, 'invalid review');
    }
    return reply.code(out.httpStatus).send(out.body);
  });

  app.get('/livez', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const ok = deps.ready ? deps.ready() : true;
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready' });
  });
  app.get('/metrics', async (_req, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return app;
}
