/**
 * One request through the edge, in order:
 *
 *   request target -> framing checks (two Authorization headers, a body on a method that takes
 *   none) -> pipeline stages before the body -> 100 Continue -> the body (read within the cap or
 *   streamed) -> stages that need the body -> forward (its lane, its timeout) -> relay
 *
 * Nothing is read from the body before the pipeline has authorized the request, and a request
 * refused before its body was read closes the connection (edge/reply.ts), so an unauthenticated
 * client can neither make the sidecar buffer nor make it drain an upload.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorizationFromRawHeaders } from '../auth/jwt-bearer.ts';
import { andThen, createRequestContext, type Reply } from '../context.ts';
import { ERR } from '../errors.ts';
import { parseTarget } from '../paths.ts';
import { readRequestBody, type BodyResult } from '../proxy/body.ts';
import { upstreamRequestHeaders } from '../proxy/headers.ts';
import { laneOf } from '../proxy/lanes.ts';
import { hasBody } from '../proxy/media-type.ts';
import type { Readable } from 'node:stream';
import { Exchange, type Edge } from './exchange.ts';
import { Relay } from './relay.ts';

/**
 * Methods whose requests may carry a body. MCP sends bodies only with POST; PUT and PATCH are kept
 * for upstream endpoints of their own, and their bodies pass the same policy, DLP and audit. On any
 * other method a body has no meaning (RFC 9110 9.3.1) and an upstream that ignores it on a kept-alive
 * connection would read it as a second, unchecked request: refused.
 */
const BODY_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH']);

const bad = (message: string): Reply => ({ status: 400, code: ERR.BAD_REQUEST, body: { error: 'Bad Request', message }, close: true });

/** Whether a forwarded request holds a tools/call (its response may wait for the tool to finish). */
const hasToolCall = (rpc: readonly { method: string }[] | undefined): boolean => rpc !== undefined && rpc.some((c) => c.method === 'tools/call');

const NO_BODY: BodyResult = Object.freeze({});
const noop = (): void => {};

const failed = (ex: Exchange, err: unknown): void => ex.fail(err, 'request handling failed', 'error');

export function createHandler(edge: Edge): (req: IncomingMessage, res: ServerResponse, expectContinue: boolean) => void {
  const { pipeline, metrics, config } = edge;

  // Each step runs at once when the one before was synchronous (as it is for API keys, in-memory
  // limits and a request without a body), and after its promise otherwise.
  function run(ex: Exchange, expectContinue: boolean): void | Promise<void> {
    const { req, ctx } = ex;
    const target = parseTarget(req.url ?? '');
    if (!target.ok) return ex.answer({ status: 400, code: ERR.PATH_INVALID, body: { error: 'Bad Request', message: `Invalid request path: ${target.reason}` }, close: true });
    // Node keeps only the first of two Authorization headers; two credentials is an attack shape.
    // (req.headersDistinct would show it too, but builds arrays for every header on every request.)
    if (Array.isArray(authorizationFromRawHeaders(req.rawHeaders))) return ex.answer(bad('More than one Authorization header'));
    if (!BODY_METHODS.has(ctx.method) && hasBody(req.headers)) return ex.answer(bad(`A ${ctx.method} request must not carry a body`));
    (ctx as { path: string }).path = target.path;
    (ctx as { search: string }).search = target.search;
    return andThen(pipeline.run(ctx), (refused) => authorized(ex, expectContinue, refused));
  }

  function authorized(ex: Exchange, expectContinue: boolean, refused: Reply | undefined): void | Promise<void> {
    const { req, res, ctx } = ex;
    if (refused) return ex.answer(refused);
    // RFC 9110 10.1.1: the client waits for this before sending the body; only now is it wanted.
    if (expectContinue && !res.destroyed) res.writeContinue();
    if (!hasBody(req.headers)) return bodyRead(ex, NO_BODY);
    return andThen(readRequestBody(req, ctx, config.maxBodyBytes), (body) => bodyRead(ex, body));
  }

  function bodyRead(ex: Exchange, body: BodyResult): void | Promise<void> {
    if (body.gone) return;
    if (body.reply) return ex.answer(body.reply);
    return andThen(pipeline.runAfterBody(ex.ctx), (refused) => {
      if (refused) {
        body.stream?.destroy();
        return ex.answer(refused);
      }
      forward(ex, body.stream);
    });
  }

  function forward(ex: Exchange, stream: Readable | undefined): void {
    const { req, res, ctx } = ex;
    if (res.destroyed) {
      stream?.destroy();
      return; // the client left while the request was read
    }
    const headers = upstreamRequestHeaders(req.headers, {
      drop: ctx.dropHeaders,
      add: ctx.addHeaders,
      forwardedFor: pipeline.forwardedFor(req),
      proto: pipeline.forwardedProto(req),
      upstreamHost: edge.upstreamHost,
    });
    if (ctx.body !== undefined) {
      headers['content-length'] = String(ctx.body.length);
      delete headers['transfer-encoding'];
    }
    // The response goes to the relay as undici reads it; a client that goes away before it ends
    // aborts the upstream request (Relay.closed, from the response's one 'close' listener).
    const relay = new Relay(ex, stream);
    const result = edge.forwarder.forward(
      {
        method: ctx.method,
        path: ctx.path + ctx.search,
        headers,
        body: ctx.body ?? stream,
        lane: laneOf(ctx),
        headersTimeoutMs: hasToolCall(ctx.rpc) ? config.upstreamToolTimeoutMs : config.upstreamTimeoutMs,
      },
      relay,
    );
    if (!result.ok) {
      stream?.destroy();
      metrics.upstreamErrors.inc({ kind: 'busy' });
      const what = result.busy === 'stream' ? 'long-lived streams' : result.busy === 'exempt' ? 'health checks' : 'requests';
      return ex.answer({
        status: 503,
        code: ERR.UPSTREAM_BUSY,
        headers: { 'retry-after': '1' },
        body: { error: 'Service Unavailable', message: `The sidecar already has ${result.limit} ${what} in flight to the MCP server; try again shortly` },
      });
    }
    relay.control = result.control;
    ex.relay = relay;
  }

  return (req, res, expectContinue) => {
    const ctx = createRequestContext({ startedAt: performance.now(), method: req.method ?? 'GET', headers: req.headers, clientIp: pipeline.clientIp(req) });
    const ex = new Exchange(req, res, ctx, edge);
    metrics.inflight.inc();
    edge.inflight.add(res);
    // 'close' comes once per response: `on`, not `once`, spares a wrapper per request.
    res.on('close', () => ex.finish());
    // Every stream has an error path: a request whose body is never read can still be reset.
    req.on('error', noop);
    res.on('error', noop);
    try {
      const pending = run(ex, expectContinue);
      if (pending) pending.catch((err: unknown) => failed(ex, err));
    } catch (err) {
      failed(ex, err);
    }
  };
}
