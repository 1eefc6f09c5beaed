/**
 * Which requests open long-lived streams, decided in one place for the upstream lanes
 * (proxy/forward.ts), the stream cap (limit/streams.ts) and draining (edge/inflight.ts).
 *
 * Long-lived: a GET (the 2025 transports' server-to-client stream: Streamable HTTP's GET, the legacy
 * `GET /sse`) and a 2026-07-28 `subscriptions/listen` POST, when the upstream answers it with an
 * event stream. What the request's Accept said does not matter: a client that leaves it out still
 * holds the stream. Other POSTs answered with SSE carry one request's answer and end with it.
 */
import type { RequestContext, UpstreamResponseHead } from '../context.ts';
import type { Lane } from './forward.ts';

/** The 2026-07-28 method whose SSE response carries long-lived notifications. */
const LISTEN_METHOD = 'subscriptions/listen';

/** Whether the request, if answered with an event stream, holds it open for long. */
export function opensLongLivedStream(ctx: Pick<RequestContext, 'method' | 'exempt' | 'rpc'>): boolean {
  if (ctx.exempt) return false;
  if (ctx.method === 'GET') return true;
  const rpc = ctx.rpc;
  return ctx.method === 'POST' && rpc !== undefined && rpc.length === 1 && rpc[0]!.method === LISTEN_METHOD;
}

/** Whether this response is a long-lived stream (counted, limited and ended on drain). */
export function isLongLivedResponse(ctx: Pick<RequestContext, 'method' | 'exempt' | 'rpc'>, head: UpstreamResponseHead): boolean {
  return opensLongLivedStream(ctx) && head.kind === 'sse';
}

/** The upstream lane a request is counted in. */
export function laneOf(ctx: Pick<RequestContext, 'method' | 'exempt' | 'rpc'>): Lane {
  if (ctx.exempt) return 'exempt';
  return opensLongLivedStream(ctx) ? 'stream' : 'ordinary';
}
