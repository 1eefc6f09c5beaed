/**
 * Errors with stable codes. Callers switch on `code`, never on the message; the HTTP edge maps a
 * code to a status, and logs and metrics use the code as a label.
 */

export const ERR = {
  CONFIG_INVALID: 'ERR_CONFIG_INVALID',
  LISTEN_FAILED: 'ERR_LISTEN_FAILED',
  AUTH_MISSING: 'ERR_AUTH_MISSING',
  AUTH_INVALID_KEY: 'ERR_AUTH_INVALID_KEY',
  AUTH_INVALID_TOKEN: 'ERR_AUTH_INVALID_TOKEN',
  AUTH_INSUFFICIENT_SCOPE: 'ERR_AUTH_INSUFFICIENT_SCOPE',
  AUTH_IDP_UNAVAILABLE: 'ERR_AUTH_IDP_UNAVAILABLE',
  OAUTH_NOT_OFFERED: 'ERR_OAUTH_NOT_OFFERED',
  PATH_INVALID: 'ERR_PATH_INVALID',
  ORIGIN_FORBIDDEN: 'ERR_ORIGIN_FORBIDDEN',
  BODY_TOO_LARGE: 'ERR_BODY_TOO_LARGE',
  HEADERS_TOO_LARGE: 'ERR_HEADERS_TOO_LARGE',
  REQUEST_TIMEOUT: 'ERR_REQUEST_TIMEOUT',
  BAD_REQUEST: 'ERR_BAD_REQUEST',
  HEADER_MISMATCH: 'ERR_HEADER_MISMATCH',
  RATE_LIMITED: 'ERR_RATE_LIMITED',
  RATE_LIMIT_UNAVAILABLE: 'ERR_RATE_LIMIT_UNAVAILABLE',
  TOOL_FORBIDDEN: 'ERR_TOOL_FORBIDDEN',
  DLP_BLOCKED: 'ERR_DLP_BLOCKED',
  UPSTREAM_UNAVAILABLE: 'ERR_UPSTREAM_UNAVAILABLE',
  UPSTREAM_TIMEOUT: 'ERR_UPSTREAM_TIMEOUT',
  UPSTREAM_BUSY: 'ERR_UPSTREAM_BUSY',
  DRAINING: 'ERR_DRAINING',
  INTERNAL: 'ERR_INTERNAL',
} as const;

export type ErrorCode = (typeof ERR)[keyof typeof ERR];

/** Codes counted as authentication failures (metric mcp_warden_auth_failures_total{reason}). */
export const AUTH_FAILURE_CODES: ReadonlySet<string> = new Set([ERR.AUTH_MISSING, ERR.AUTH_INVALID_KEY, ERR.AUTH_INVALID_TOKEN, ERR.AUTH_INSUFFICIENT_SCOPE, ERR.AUTH_IDP_UNAVAILABLE]);

/** One bad setting: which one, the value seen (secrets masked) and what was expected. */
export interface ConfigIssue {
  readonly setting: string;
  readonly value: string;
  readonly expected: string;
}

/** What a config-file section's parser returns: the value, and every problem found in it. */
export interface SectionResult<T> {
  readonly value: T;
  readonly issues: readonly ConfigIssue[];
}

/** Every problem found in the configuration, reported at once. */
export class ConfigError extends Error {
  readonly code = ERR.CONFIG_INVALID;
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(formatIssues(issues));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export function formatIssues(issues: readonly ConfigIssue[]): string {
  const lines = issues.map((i) => `  - ${i.setting}: got ${i.value}; expected ${i.expected}`);
  return `invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines.join('\n')}`;
}

/** An error that ends a request: a stable code and the HTTP status the edge answers with. */
export class WardenError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, status: number, message: string) {
    super(message);
    this.name = 'WardenError';
    this.code = code;
    this.status = status;
  }
}
