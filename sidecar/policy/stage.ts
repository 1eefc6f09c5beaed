/**
 * The tool-policy stage: after authentication and after the body was read, decide every tools/call
 * of a POST, refuse the forbidden ones before anything reaches the upstream, filter tools/list
 * answers, and audit every JSON-RPC request once the response is done.
 *
 * How a refusal reaches the client depends on the transport, because the two MCP HTTP transports
 * deliver answers differently:
 * - Streamable HTTP (the client's Accept lists text/event-stream, which that transport requires):
 *   HTTP 200 `application/json` carrying JSON-RPC error responses. The transport allows a JSON answer
 *   to any POST, and the SDK client resolves the pending request with the error at once.
 * - the older HTTP+SSE transport (POST /message?sessionId=..., answered 202 with the response sent
 *   later on the GET stream): HTTP 403 with the same JSON-RPC body. The SDK's SSE client turns a
 *   non-2xx POST into a rejected request whose message includes the body (so the tool's name);
 *   injecting an event into the session's GET stream instead would need state shared across
 *   requests and would hang the caller until its timeout if the stream were gone.
 *
 * A batch with any forbidden call is refused whole, with one error per request id (JSON-RPC 2.0
 * section 6: notifications get none): simplest to reason about, and no allowed side effect runs
 * half of a batch the caller meant as a unit.
 */
import type { Reply, RequestContext, Stage } from '../context.ts';
import { ERR } from '../errors.ts';
import { auditWhenDone, type AuditRecord } from './audit.ts';
import type { ParsedCall } from './jsonrpc.ts';
import { RPC_ERROR, rpcError } from '../jsonrpc-error.ts';
import { createToolLabeler } from './labels.ts';
import { createToolsListFilter } from './tools-list-filter.ts';
import { compilePolicy, decideTool, type PolicySource } from './tools.ts';

/** Callbacks the edge wires to metrics and the audit logger; all optional. */
export interface ToolPolicyDeps {
  /** Called once per tools/call with a bounded-cardinality tool label (see labels.ts). */
  readonly onToolCall?: (tool: string, decision: 'allow' | 'deny') => void;
  /** Called once per JSON-RPC request or notification, when the response is done. */
  readonly onAudit?: (record: AuditRecord) => void;
  /** Wall clock for audit times; Date.now by default. */
  readonly now?: () => number;
  /** Largest SSE event or JSON body the tools/list filter holds back (default 16 MiB). */
  readonly maxBufferBytes?: number;
}

interface Verdict {
  readonly call: ParsedCall | undefined;
  readonly decision: 'allow' | 'deny';
  readonly reason?: string;
}

const message = (c: ParsedCall): string =>
  c.tool === undefined ? 'Invalid params: tools/call needs params.name, a string' : `Tool ${JSON.stringify(c.tool.slice(0, 200))} is not permitted`;

/** The reply to a POST holding forbidden calls; see the module comment for the two transports. */
function refusal(ctx: RequestContext, calls: readonly ParsedCall[], verdicts: readonly Verdict[]): Reply {
  const first = verdicts.find((v) => v.decision === 'deny' && v.call !== undefined)?.call;
  const errors = calls
    .filter((c) => c.kind === 'request')
    .map((c) => {
      const denied = verdicts.find((v) => v.call === c)?.decision === 'deny';
      const msg = denied ? message(c) : `Batch refused: ${first ? message(first) : 'a call is not permitted'}`;
      return rpcError(c.id, RPC_ERROR.TOOL_FORBIDDEN, msg, ERR.TOOL_FORBIDDEN);
    });
  const streamable = /text\/event-stream/i.test(ctx.headers.accept ?? '');
  const body = calls[0]?.batch === true ? errors : errors[0];
  // A batch of notifications only has nobody to answer: 202 as for any accepted notification.
  if (errors.length === 0) return { status: streamable ? 202 : 403, code: ERR.TOOL_FORBIDDEN };
  return { status: streamable ? 200 : 403, code: ERR.TOOL_FORBIDDEN, headers: { 'content-type': 'application/json' }, body };
}

/**
 * Build the stage. Reads Config once (allowTools, denyTools, sections['tools.groups']).
 *
 * - GET: adds the shape-mode tools/list filter (for event streams) and lets the request on.
 * - a body (read by the message stage, mcp/stage.ts, into ctx.message): decides each tools/call,
 *   refuses forbidden ones (nothing reaches the upstream), adds the ids-mode filter when the body
 *   holds tools/list requests, and audits every request/notification in onDone.
 * - other methods without a body (DELETE, OPTIONS): untouched.
 *
 * Once any rule restricts tools (an allow list, a deny list or a group rule), every body must be
 * JSON-RPC in `application/json`: anything else is refused (415, or 400 with -32700/-32600) before
 * it reaches the upstream, because a body the sidecar cannot read is a body it cannot judge. With
 * no rule at all such bodies are passed on (and not audited: they hold no JSON-RPC request).
 *
 * The edge must call ctx.onDone for refused requests too: that is where their audit lines come from.
 */
export function createToolPolicyStage(config: PolicySource, deps: ToolPolicyDeps = {}): Stage {
  const policy = compilePolicy(config);
  const label = createToolLabeler(policy);
  const now = deps.now ?? Date.now;
  const filterOpts = deps.maxBufferBytes === undefined ? {} : { maxBufferBytes: deps.maxBufferBytes };

  const audit = (ctx: RequestContext, time: number, verdicts: readonly Verdict[]): void => auditWhenDone(ctx, time, verdicts, deps.onAudit);

  return (ctx) => {
    if (ctx.method === 'GET') {
      if (!policy.open) ctx.responseStages.push(createToolsListFilter(policy, ctx.identity, filterOpts));
      return undefined;
    }
    // Every body is judged whatever the method carrying it: a tools/call in a PUT is still a call.
    // (The edge refuses bodies on methods that take none, GET included.) The message stage read it.
    const parsed = ctx.message;
    if (parsed === undefined) return undefined;
    const time = now();
    if (!parsed.ok) {
      // With no rule to enforce there is nothing a body could smuggle past: let the upstream
      // answer what it cannot read (a deployment without tool policy keeps plain proxy behaviour).
      if (policy.open) return undefined;
      audit(ctx, time, [{ call: undefined, decision: 'deny', reason: parsed.reply.code }]);
      return parsed.reply;
    }
    const calls = parsed.message.calls;

    const verdicts: Verdict[] = [];
    let refused = false;
    for (const c of calls) {
      if (c.kind === 'response') continue;
      if (c.method !== 'tools/call') {
        verdicts.push({ call: c, decision: 'allow' });
        continue;
      }
      const decision = c.tool === undefined ? 'deny' : decideTool(policy, ctx.identity, c.tool);
      if (decision === 'deny') refused = true;
      verdicts.push(decision === 'deny' ? { call: c, decision, reason: ERR.TOOL_FORBIDDEN } : { call: c, decision });
    }
    // Metrics and audit say what happened: allowed siblings in a refused batch were not forwarded.
    const final = refused ? verdicts.map((v): Verdict => (v.decision === 'deny' ? v : { call: v.call, decision: 'deny', reason: ERR.TOOL_FORBIDDEN })) : verdicts;
    for (const v of final) if (v.call?.method === 'tools/call') deps.onToolCall?.(label(v.call.tool), v.decision);
    if (refused) {
      audit(ctx, time, final);
      ctx.logFields.toolDenied = verdicts.find((v) => v.decision === 'deny')?.call?.tool?.slice(0, 200) ?? null;
      return refusal(ctx, calls, verdicts);
    }
    audit(ctx, time, verdicts);
    const listIds = calls.filter((c) => c.kind === 'request' && c.method === 'tools/list').map((c) => c.id);
    if (listIds.length > 0 && !policy.open) ctx.responseStages.push(createToolsListFilter(policy, ctx.identity, { ...filterOpts, ids: listIds }));
    return undefined;
  };
}
