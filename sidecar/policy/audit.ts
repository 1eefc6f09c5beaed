/**
 * The audit line: one JSON object per JSON-RPC request or notification a client sent, built here as
 * a plain object (the `audit` pino child logger writes it). It says who called what, from where, what
 * the sidecar decided and how it ended. It never holds tool arguments: at most their SHA-256 and
 * size, so two identical calls can be matched without the log becoming a store of the secrets that
 * tool arguments often carry. (A hash of a low-entropy value, e.g. a 4-digit PIN, can still be
 * guessed by trying them all; that is why the hash covers the whole canonical argument object.)
 */
import type { Era, Identity, RequestContext } from '../context.ts';
import type { ParsedCall } from './jsonrpc.ts';

/** Client-controlled strings are cut to this many characters in audit lines. */
export const AUDIT_MAX_FIELD = 200;

/** What auditRecord needs: the request, the decision and how it ended. */
export interface AuditInput {
  /** Wall-clock time of the request, ms since the epoch (Date.now() at the start). */
  readonly time: number;
  readonly identity: Identity | undefined;
  readonly clientIp: string;
  readonly call: ParsedCall | undefined;
  readonly decision: 'allow' | 'deny';
  /** Error code when the sidecar refused (ERR_TOOL_FORBIDDEN, ERR_BAD_REQUEST, ERR_HEADER_MISMATCH). */
  readonly reason?: string;
  /** The protocol era of the body (mcp/era.ts), when it could be read. */
  readonly era?: Era;
  /** The protocol revision the request named, when it named one. */
  readonly protocolVersion?: string;
  /** The HTTP status the client got (0 when it went away before one was sent). */
  readonly status: number;
  readonly aborted: boolean;
  readonly durationMs: number;
}

/** One audit line, as written by the `audit` logger. */
export interface AuditRecord {
  /**
   * When the request began (ISO 8601). Not named `time`: pino stamps its own `time` (when the line is
   * written, at the end of the request) and a second `time` key would make the line ambiguous JSON.
   */
  readonly startTime: string;
  /** JWT `sub` when there is one, else the identity's loggable id (`key:...`), else `anonymous`. */
  readonly identity: string;
  readonly identityKind: Identity['kind'];
  readonly clientIp: string;
  /** JSON-RPC method; null when the body held no readable message. */
  readonly method: string | null;
  readonly rpcId?: string | number | null;
  readonly tool?: string;
  /** `legacy` (2025 revisions) or `modern` (2026-07-28 and later). */
  readonly era?: Era;
  readonly protocolVersion?: string;
  readonly decision: 'allow' | 'deny';
  readonly reason?: string;
  readonly status: number;
  readonly aborted?: true;
  readonly durationMs: number;
  readonly argsSha256?: string;
  readonly argsBytes?: number;
}

const cut = (s: string): string => (s.length > AUDIT_MAX_FIELD ? `${s.slice(0, AUDIT_MAX_FIELD)}...` : s);

/** Build one audit record. Pure: the caller supplies the clock readings. */
export function auditRecord(input: AuditInput): AuditRecord {
  const { call, identity } = input;
  const rec: Record<string, unknown> = {
    startTime: new Date(input.time).toISOString(),
    identity: cut(identity?.subject ?? identity?.id ?? 'anonymous'),
    identityKind: identity?.kind ?? 'none',
    clientIp: input.clientIp,
    method: call === undefined ? null : cut(call.method),
  };
  if (call?.id !== undefined) rec.rpcId = typeof call.id === 'string' ? cut(call.id) : call.id;
  if (call?.tool !== undefined) rec.tool = cut(call.tool);
  if (input.era !== undefined) rec.era = input.era;
  if (input.protocolVersion !== undefined) rec.protocolVersion = cut(input.protocolVersion);
  rec.decision = input.decision;
  if (input.reason !== undefined) rec.reason = input.reason;
  rec.status = input.status;
  if (input.aborted) rec.aborted = true;
  rec.durationMs = Math.round(input.durationMs * 1000) / 1000;
  if (call?.argsSha256 !== undefined) rec.argsSha256 = call.argsSha256;
  if (call?.argsBytes !== undefined) rec.argsBytes = call.argsBytes;
  return rec as unknown as AuditRecord;
}

/** One audited message: the call (undefined when the body could not be read) and the decision. */
export interface AuditEntry {
  readonly call: ParsedCall | undefined;
  readonly decision: 'allow' | 'deny';
  readonly reason?: string;
}

/**
 * Write one audit line per entry once the request is done (ctx.onDone), with how it ended. Era and
 * revision come from the body's validated view (ctx.message) as it is when the request ends.
 */
export function auditWhenDone(ctx: RequestContext, time: number, entries: readonly AuditEntry[], onAudit: ((record: AuditRecord) => void) | undefined): void {
  if (onAudit === undefined || entries.length === 0) return;
  const identity = ctx.identity;
  ctx.onDone.push(({ status, aborted }) => {
    const durationMs = performance.now() - ctx.startedAt;
    const read = ctx.message;
    const m = read?.ok === true ? read.message : undefined;
    for (const e of entries) {
      onAudit(
        auditRecord({
          time,
          identity,
          clientIp: ctx.clientIp,
          call: e.call,
          decision: e.decision,
          ...(e.reason === undefined ? {} : { reason: e.reason }),
          ...(m === undefined ? {} : { era: m.era, ...(m.protocolVersion === undefined ? {} : { protocolVersion: m.protocolVersion }) }),
          status,
          aborted,
          durationMs,
        }),
      );
    }
  });
}
