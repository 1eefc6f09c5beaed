/**
 * The webhook's Prometheus metrics, on a registry of its own (two apps in one test process never
 * collide).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Admission time buckets, up to the API server's largest webhook timeout (30 s): the slow-webhook
 * alert compares the 99th percentile with a threshold in seconds, and a quantile past the last
 * finite bucket reads as that bucket's bound (a histogram ending at 0.1 s could never show 0.5 s).
 */
export const ADMISSION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createWebhookMetrics(opts: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'mcp_warden_webhook_' });
  return {
    registry,
    admissions: new Counter({ name: 'mcp_warden_webhook_admissions_total', help: 'AdmissionReviews answered, by result (injected, skipped, rejected, invalid, error).', labelNames: ['result'] as const, registers: [registry] }),
    skips: new Counter({ name: 'mcp_warden_webhook_skips_total', help: 'Pods left alone, by reason.', labelNames: ['reason'] as const, registers: [registry] }),
    duration: new Histogram({ name: 'mcp_warden_webhook_admission_duration_seconds', help: 'Time to decide and render one admission.', buckets: ADMISSION_BUCKETS, registers: [registry] }),
    certReloads: new Counter({ name: 'mcp_warden_webhook_cert_reloads_total', help: 'Serving certificate loads, by outcome (ok, error).', labelNames: ['outcome'] as const, registers: [registry] }),
    certExpiry: new Gauge({ name: 'mcp_warden_webhook_cert_expiry_timestamp_seconds', help: 'notAfter of the serving certificate in use.', registers: [registry] }),
    caBundlePatches: new Counter({ name: 'mcp_warden_webhook_cabundle_patches_total', help: 'caBundle patches sent to the MutatingWebhookConfiguration.', registers: [registry] }),
  };
}

export type WebhookMetrics = ReturnType<typeof createWebhookMetrics>;
