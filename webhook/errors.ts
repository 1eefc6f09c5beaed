import type { ConfigIssue } from '../sidecar/errors.ts';

/**
 * The webhook's stable error codes. Callers switch on `code`; the admission edge maps each to an
 * HTTP status or an `allowed: false` answer, and metrics label by it.
 */
export const WEBHOOK_ERR = {
  /** One or more `mcp-warden.dev/*` annotations are invalid: the pod is rejected (400). */
  ANNOTATION_INVALID: 'ERR_WEBHOOK_ANNOTATION_INVALID',
  /** The pod cannot be injected as it stands (no container, port missing, name clash): rejected (400). */
  POD_UNINJECTABLE: 'ERR_WEBHOOK_POD_UNINJECTABLE',
  /** The AdmissionReview itself is malformed. */
  REVIEW_INVALID: 'ERR_WEBHOOK_REVIEW_INVALID',
} as const;

export type WebhookErrorCode = (typeof WEBHOOK_ERR)[keyof typeof WEBHOOK_ERR];

/** One bad input: where (annotation key, config path), the value seen and what was expected. */
export type Issue = ConfigIssue;

/** An error with a stable code and, for admission, the status code the API server is told. */
export class WebhookError extends Error {
  readonly code: WebhookErrorCode;
  readonly status: number;
  readonly issues: readonly Issue[];
  constructor(code: WebhookErrorCode, message: string, opts: { status?: number; issues?: readonly Issue[] } = {}) {
    super(message);
    this.name = 'WebhookError';
    this.code = code;
    this.status = opts.status ?? 400;
    this.issues = opts.issues ?? [];
  }
}

/** Quote a value for an error message, shortened so a huge annotation cannot flood a log line. */
export function quote(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  return JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}...` : s);
}

/** One message listing every issue, e.g. for `allowed: false` answers. */
export function formatIssueList(title: string, issues: readonly Issue[]): string {
  return `${title} (${issues.length} problem${issues.length === 1 ? '' : 's'}): ${issues.map((i) => `${i.setting}: got ${i.value}; expected ${i.expected}`).join('; ')}`;
}
