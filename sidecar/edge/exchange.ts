/**
 * One request and its response, as the edge sees it: what was answered (for the log line and the
 * metrics), and the two ways a response starts, a Reply the sidecar writes itself or the head of a
 * relayed upstream response. Every response passes through here exactly once.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Config } from '../config.ts';
import type { Reply, RequestContext } from '../context.ts';
import { AUTH_FAILURE_CODES } from '../errors.ts';
import type { Logger, RequestLogger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Pipeline } from '../pipeline.ts';
import type { Forwarder } from '../proxy/forward.ts';
import type { Inflight } from './inflight.ts';
import { errorReply, writeReply } from './reply.ts';

/** What the edge shares across requests; built once by createSidecar. */
export interface Edge {
  readonly config: Config;
  readonly pipeline: Pipeline;
  readonly forwarder: Forwarder;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly requestLog: RequestLogger;
  readonly record: (status: number, method: string, seconds: number) => void;
  readonly inflight: Inflight;
  readonly isDraining: () => boolean;
  /** host:port of the upstream, sent as Host. */
  readonly upstreamHost: string;
}

export class Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly ctx: RequestContext;
  readonly edge: Edge;
  /** The status sent (0 until a response starts). */
  status = 0;
  code = 'OK';
  /** The upstream's response under way, told when the client's response closes. */
  relay: { closed(): void } | undefined = undefined;

  constructor(req: IncomingMessage, res: ServerResponse, ctx: RequestContext, edge: Edge) {
    this.req = req;
    this.res = res;
    this.ctx = ctx;
    this.edge = edge;
  }

  /** Whether the client can still be answered with a status of our choosing. */
  get canAnswer(): boolean {
    return !this.res.headersSent && !this.res.destroyed;
  }

  #started(status: number): void {
    this.status = status;
    this.edge.record(status, this.ctx.method, (performance.now() - this.ctx.startedAt) / 1000);
  }

  /** End the request with a Reply (refusals, errors). A no-op once a response has started. */
  answer(reply: Reply): void {
    if (!this.canAnswer) return;
    this.#started(reply.status);
    this.code = reply.code;
    if (AUTH_FAILURE_CODES.has(reply.code)) this.edge.metrics.authFailures.inc({ reason: reply.code });
    writeReply(this.req, this.res, reply, this.ctx.responseHeaders, this.edge.isDraining());
  }

  /** Start a relayed response. */
  head(status: number, headers: OutgoingHttpHeaders): void {
    this.#started(status);
    if (this.edge.isDraining()) headers.connection = 'close';
    this.res.writeHead(status, headers);
  }

  /**
   * A failure after the request was accepted: answered when nothing was sent, else the connection is
   * cut. One log line: `warn` with the message and code for a failure the edge expects (a stream
   * cut, a body refused), `error` with the whole error (its stack) for one it does not.
   */
  fail(err: unknown, what: string, level: 'warn' | 'error' = 'warn'): void {
    const e = err as { message?: string; code?: string };
    if (level === 'error') this.edge.log.error({ err }, what);
    else this.edge.log.warn({ err: e.message, code: e.code }, what);
    if (this.canAnswer) this.answer(errorReply(err));
    else this.res.destroy();
  }

  /** The response is done or the client left: callbacks, bookkeeping and the request's log line. */
  finish(): void {
    const { ctx, edge } = this;
    this.relay?.closed();
    edge.metrics.inflight.dec();
    edge.inflight.delete(this.res);
    const aborted = !this.res.writableFinished;
    const outcome = { status: this.status, aborted };
    for (const fn of ctx.onDone) {
      try {
        fn(outcome);
      } catch (err) {
        edge.log.error({ err }, 'onDone callback failed');
      }
    }
    if (edge.log.isLevelEnabled('info')) {
      const ms = Math.round((performance.now() - ctx.startedAt) * 1000) / 1000;
      edge.requestLog({ method: ctx.method, path: ctx.path || '(invalid)', status: this.status, ms, id: ctx.identity?.id, ip: ctx.clientIp, code: this.code === 'OK' ? undefined : this.code, aborted: aborted || undefined, ...ctx.logFields });
    }
  }
}
