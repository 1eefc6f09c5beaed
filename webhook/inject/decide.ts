/**
 * Whether a pod is ours to mutate, or the reason it is not (linkerd2's `Injectable() (bool, reasons)`).
 * Skips are not errors: they are logged with their reason and counted by reason.
 */
import { ANNOTATIONS } from './annotations.ts';
import type { PodLike } from './types.ts';

export const SKIP_REASONS = ['system-namespace', 'webhook-namespace', 'webhook-pod', 'not-annotated', 'opted-out'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** Labels the chart puts on the webhook's own pods (contract). */
export const WEBHOOK_POD_LABELS = { 'app.kubernetes.io/name': 'mcp-warden', 'app.kubernetes.io/component': 'webhook' } as const;

/**
 * Reasons that hold before annotations are even read: excluded namespaces, the webhook's own
 * namespace and its own pods (a webhook that mutates itself can wedge its own rollout).
 */
export function skipBeforeAnnotations(pod: PodLike, namespace: string, opts: { excludeNamespaces: readonly string[]; webhookNamespace: string | undefined }): SkipReason | undefined {
  if (opts.excludeNamespaces.includes(namespace)) return 'system-namespace';
  if (opts.webhookNamespace !== undefined && namespace === opts.webhookNamespace) return 'webhook-namespace';
  const labels = pod.metadata?.labels ?? {};
  if (Object.entries(WEBHOOK_POD_LABELS).every(([k, v]) => labels[k] === v)) return 'webhook-pod';
  return undefined;
}

/** After annotations: not asked for, or explicitly refused. */
export function skipByOptIn(inject: 'true' | 'false' | undefined): SkipReason | undefined {
  if (inject === undefined) return 'not-annotated';
  if (inject === 'false') return 'opted-out';
  return undefined;
}

/** A human sentence for a skip, for logs and the CLI. */
export function describeSkip(reason: SkipReason, namespace: string): string {
  switch (reason) {
    case 'system-namespace':
      return `namespace "${namespace}" is excluded by the webhook configuration`;
    case 'webhook-namespace':
      return `namespace "${namespace}" is the webhook's own namespace`;
    case 'webhook-pod':
      return "the pod is one of the webhook's own pods";
    case 'not-annotated':
      return `neither the annotation nor the label ${ANNOTATIONS.inject} is set`;
    case 'opted-out':
      return `${ANNOTATIONS.inject} is "false"`;
  }
}
