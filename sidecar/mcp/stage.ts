/**
 * The message stage: right after the body is read and before any stage reads a method or a tool
 * name, parse the JSON-RPC body once, decide its protocol era (era.ts), check its mirrored headers
 * against it (mirrored-headers.ts), and hand every later stage the result in ctx.message (and the
 * calls in ctx.rpc).
 *
 * - Headers that disagree with the body: HTTP 400 with a JSON-RPC error -32020 (HeaderMismatch) and
 *   the request's id; the request never reaches the MCP server. Audited as a refusal.
 * - A body that is not readable JSON-RPC is recorded in ctx.message for the tool-policy stage, which
 *   refuses it when a rule restricts tools and otherwise lets the upstream answer it, as before; but
 *   when the request carries 2026-07-28 headers it claims the modern era, whose headers cannot be
 *   checked against a body nobody can read: refused here (415, or 400 with -32700/-32600).
 */
import type { Reply, RequestContext, Stage } from '../context.ts';
import { ERR } from '../errors.ts';
import { RPC_ERROR, rpcError } from '../jsonrpc-error.ts';
import { auditWhenDone, type AuditRecord } from '../policy/audit.ts';
import { parseJsonRpc } from '../policy/jsonrpc.ts';
import { hasBody } from '../proxy/media-type.ts';
import { classifyMessage } from './era.ts';
import { isModernVersion, type McpMessage, type MessageRead } from './message.ts';
import { VERSION_HEADER, checkMirroredHeaders, mirroredHeaders, type HeaderMismatch } from './mirrored-headers.ts';

export interface MessageStageDeps {
  /** Called once per JSON-RPC message of a refused body, when the response is done. */
  readonly onAudit?: (record: AuditRecord) => void;
  /** Wall clock for audit times; Date.now by default. */
  readonly now?: () => number;
}

/** Whether a request is one this stage reads: every body, whatever the method (as tool policy). */
const carriesBody = (ctx: Pick<RequestContext, 'method' | 'body' | 'headers'>): boolean => ctx.method === 'POST' || ctx.body !== undefined || hasBody(ctx.headers);

/** Read and classify a body: the message, or the Reply refusing it. Pure but for the parse. */
export function readMessage(body: Buffer, headers: RequestContext['headers']): MessageRead {
  const parsed = parseJsonRpc(body, headers['content-type']);
  if (!parsed.ok) return parsed;
  const version = headers[VERSION_HEADER];
  return { ok: true, message: classifyMessage(parsed.doc, parsed.calls, Array.isArray(version) ? version.join(', ') : version) };
}

/** The 400 a header/body disagreement gets (streamable-http, "Server Validation"). */
function headerMismatchReply(m: McpMessage, mismatch: HeaderMismatch): Reply {
  const first = m.calls[0];
  const id = !Array.isArray(m.doc) && first?.kind === 'request' ? first.id : null;
  return {
    status: 400,
    code: ERR.HEADER_MISMATCH,
    headers: { 'content-type': 'application/json' },
    body: rpcError(id, RPC_ERROR.HEADER_MISMATCH, `Header mismatch: ${mismatch.reason}`, ERR.HEADER_MISMATCH, { header: mismatch.header }),
  };
}

/** Whether a request's headers claim the 2026-07-28 era (any mirrored header but a 2025 version). */
function claimsModern(headers: RequestContext['headers']): boolean {
  return mirroredHeaders(headers).some(([name, value]) => name !== VERSION_HEADER || isModernVersion(value));
}

export function createMessageStage(deps: MessageStageDeps = {}): Stage {
  const now = deps.now ?? Date.now;
  return (ctx) => {
    if (!carriesBody(ctx)) return undefined;
    const read = readMessage(ctx.body ?? Buffer.alloc(0), ctx.headers);
    ctx.message = read;
    if (!read.ok) {
      if (!claimsModern(ctx.headers)) return undefined;
      auditWhenDone(ctx, now(), [{ call: undefined, decision: 'deny', reason: read.reply.code }], deps.onAudit);
      return read.reply;
    }
    const m = read.message;
    ctx.rpc = m.calls;
    ctx.logFields.era = m.era;
    if (m.protocolVersion !== undefined) ctx.logFields.protocolVersion = m.protocolVersion.slice(0, 40);
    const mismatch = checkMirroredHeaders(m, ctx.headers);
    if (mismatch === undefined) return undefined;
    ctx.logFields.headerMismatch = mismatch.header;
    const entries = m.calls.filter((c) => c.kind !== 'response').map((call) => ({ call, decision: 'deny' as const, reason: ERR.HEADER_MISMATCH }));
    auditWhenDone(ctx, now(), entries, deps.onAudit);
    return headerMismatchReply(m, mismatch);
  };
}
