/**
 * The upstream's response, relayed to the client: a Relay is the UpstreamSink of one forwarded
 * request (proxy/forward.ts), fed by undici as the response arrives. The response stages (stream
 * cap, tools/list filter, DLP) see the head first and may refuse it; the body then goes one of
 * three ways:
 *
 * - whole: a rewritten body the upstream declared small (Content-Length up to WHOLE_BODY_MAX, not
 *   an event stream) is gathered complete, rewritten in memory and sent in one write with its own
 *   Content-Length. A failure is still a clean error status, since nothing was sent. No stream is
 *   made for it: this is the path of nearly every JSON-RPC answer under DLP.
 * - streamed: anything else goes through the rewriters' streams as it arrives, or straight to the
 *   client when nothing rewrites it, its head sent at once (a client may wait for the head before
 *   the upstream writes anything). Backpressure reaches the upstream: a client that reads slowly
 *   pauses undici.
 * - none: HEAD, 204, 304.
 *
 * Every stream here has an error path: every rewriter and the response have a listener, and any
 * failure destroys all of them and aborts the upstream exchange. Nothing a stage has not processed
 * is ever flushed: after the head was sent, a failure cuts the connection, which the client sees as
 * an incomplete response. Writes to the client keep their order: nothing is corked (corking with a
 * deferred uncork let the chunked terminator overtake the body's last part).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import { upstreamResponseHead, type BodyRewriter } from '../context.ts';
import { classifyUpstreamError, type UpstreamControl, type UpstreamSink } from '../proxy/forward.ts';
import { clientResponseHeaders } from '../proxy/headers.ts';
import { isLongLivedResponse } from '../proxy/lanes.ts';
import { ERR, WardenError } from '../errors.ts';
import type { Exchange } from './exchange.ts';

/** The largest declared body that is rewritten whole rather than streamed. */
export const WHOLE_BODY_MAX = 64 * 1024;

const upstreamCut = (): WardenError => new WardenError(ERR.UPSTREAM_UNAVAILABLE, 502, 'The MCP server closed the connection before the response was complete');

/** A streamed request body that passed the cap (proxy/body.ts), however undici wrapped it. */
function isBodyTooLarge(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined, i = 0; e && i < 4; e = e.cause as typeof e, i++) {
    if (e.code === ERR.BODY_TOO_LARGE) return true;
  }
  return false;
}

/** Where a relay is: waiting for the head; HEAD, 204 or 304 (answered, whatever still comes is ignored); whole; direct; through the rewriters' streams; over (ended, failed, refused or the client left). */
const Mode = { Head: 0, None: 1, Whole: 2, Direct: 3, Chain: 4, Over: 5 } as const;
type Mode = (typeof Mode)[keyof typeof Mode];

export class Relay implements UpstreamSink {
  readonly #ex: Exchange;
  /** A streamed request body, destroyed when the exchange fails. */
  readonly #requestBody: Readable | undefined;
  /** Set once forward() returned; errors may arrive before that (a request undici refused). */
  control: UpstreamControl | undefined;
  #mode: Mode = Mode.Head;
  #status = 0;
  #headers: OutgoingHttpHeaders = {};
  #headSent = false;
  #sse = false;
  // Whole.
  #chunks: Buffer[] = [];
  #size = 0;
  #declared = NaN;
  #rewriters: BodyRewriter[] = [];
  // Chain.
  #chain: Transform[] = [];
  #waitingDrain = false;
  /** Set when the sidecar ends a long-lived stream itself (drain): no more input is fed. */
  #ending = false;

  constructor(ex: Exchange, requestBody: Readable | undefined) {
    this.#ex = ex;
    this.#requestBody = requestBody;
  }

  #sendHead(): void {
    if (this.#headSent) return;
    this.#headSent = true;
    this.#ex.head(this.#status, this.#headers);
    // Node holds a head until the first body write; a streamed response's client may be waiting
    // for it. (A whole body follows in the same write; HEAD, 204 and 304 end at once.)
    if (this.#mode === Mode.Direct || this.#mode === Mode.Chain) this.#ex.res.flushHeaders();
  }

  /** Stop everything: the rewriters, the request body and the upstream exchange. */
  #teardown(): void {
    this.#mode = Mode.Over;
    for (const s of this.#chain) s.destroy();
    this.#requestBody?.destroy();
    this.control?.abort();
  }

  // undici calls these from its parser: a throw there must become this exchange's failure (a 500
  // if nothing was sent), never an exception in undici's socket handling.
  head(status: number, upstreamHeaders: Record<string, string | string[]>): void {
    try {
      this.#head(status, upstreamHeaders);
    } catch (err) {
      this.#fail(err as Error);
    }
  }

  data(chunk: Buffer): void {
    try {
      this.#data(chunk);
    } catch (err) {
      this.#fail(err as Error);
    }
  }

  end(): void {
    try {
      this.#end();
    } catch (err) {
      this.#fail(err as Error);
    }
  }

  #head(status: number, upstreamHeaders: Record<string, string | string[]>): void {
    const ex = this.#ex;
    const { ctx, res } = ex;
    if (res.destroyed) return this.#teardown(); // the client left while the request was read
    const head = upstreamResponseHead(status, upstreamHeaders);
    this.#declared = Number(upstreamHeaders['content-length'] ?? NaN);
    const rewriters = this.#rewriters;
    for (const stage of ctx.responseStages) {
      let out;
      try {
        out = stage(head, ctx);
      } catch (err) {
        this.#teardown();
        return ex.fail(err, 'response stage failed');
      }
      if (out === undefined) continue;
      if ('status' in out) {
        this.#teardown();
        return ex.answer(out);
      }
      rewriters.push(out);
    }
    const headers = clientResponseHeaders(head.headers, ctx.responseHeaders);
    // The relay owns framing: a rewritten body's length is unknown until it is whole (then set below).
    if (rewriters.length > 0) delete headers['content-length'];
    this.#status = head.status;
    this.#headers = headers;

    if (ctx.method === 'HEAD' || status === 204 || status === 304) {
      this.#mode = Mode.None;
      this.#sendHead();
      res.end();
      return;
    }
    this.#sse = head.kind === 'sse';
    if (this.#sse) ex.edge.metrics.openStreams.inc();
    if (rewriters.length > 0 && !this.#sse && this.#declared <= WHOLE_BODY_MAX) {
      this.#mode = Mode.Whole;
      return;
    }
    if (rewriters.length === 0) this.#mode = Mode.Direct;
    else this.#startChain();
    // The head goes at once: a client may wait for it before the upstream writes anything (an event
    // stream, NDJSON progress lines). A failure after this cuts the connection.
    this.#sendHead();
    if (this.#sse && isLongLivedResponse(ctx, head)) {
      // On drain, end the stream cleanly (what the stages hold is scanned and flushed); the client
      // reconnects to another replica.
      ex.edge.inflight.endOnDrain(res, () => this.#endHere());
    }
  }

  #startChain(): void {
    const res = this.#ex.res;
    this.#mode = Mode.Chain;
    const chain = this.#rewriters.map((r) => r.stream());
    this.#chain = chain;
    const fail = (err: Error): void => this.#fail(err);
    for (let i = 0; i < chain.length; i++) {
      chain[i]!.on('error', fail);
      if (i > 0) chain[i - 1]!.pipe(chain[i]!);
    }
    const out = chain[chain.length - 1]!;
    const resume = (): void => {
      out.resume();
    };
    out.on('data', (chunk: Buffer) => {
      if (this.#mode !== Mode.Chain) return;
      this.#sendHead();
      if (!res.write(chunk)) {
        out.pause();
        res.once('drain', resume);
      }
    });
    out.once('end', () => {
      if (this.#mode !== Mode.Chain) return;
      this.#mode = Mode.Over;
      this.#sendHead();
      res.end();
    });
  }

  #resumeUpstream = (): void => {
    this.#waitingDrain = false;
    this.control?.resume();
  };

  #data(chunk: Buffer): void {
    switch (this.#mode) {
      case Mode.Whole:
        this.#size += chunk.length;
        // undici enforces the declared length; this bound holds even if it did not.
        if (this.#size > this.#declared) {
          this.#teardown();
          return this.#ex.fail(upstreamCut(), 'upstream body longer than declared');
        }
        this.#chunks.push(chunk);
        return;
      case Mode.Direct: {
        const res = this.#ex.res;
        if (!res.write(chunk) && !this.#waitingDrain) {
          this.#waitingDrain = true;
          this.control?.pause();
          res.once('drain', this.#resumeUpstream);
        }
        return;
      }
      case Mode.Chain: {
        if (this.#ending) return;
        const first = this.#chain[0]!;
        if (!first.write(chunk) && !this.#waitingDrain) {
          this.#waitingDrain = true;
          this.control?.pause();
          first.once('drain', this.#resumeUpstream);
        }
        return;
      }
      default:
    }
  }

  #end(): void {
    const ex = this.#ex;
    switch (this.#mode) {
      case Mode.Whole: {
        this.#mode = Mode.Over;
        const chunks = this.#chunks;
        let out = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.#size);
        this.#chunks = [];
        try {
          for (const r of this.#rewriters) out = r.whole(out);
        } catch (err) {
          return ex.fail(err, 'response body refused');
        }
        if (!ex.canAnswer) return;
        this.#headers['content-length'] = out.length;
        this.#sendHead();
        ex.res.end(out);
        return;
      }
      case Mode.Direct:
        this.#mode = Mode.Over;
        ex.res.end();
        return;
      case Mode.Chain:
        if (!this.#ending) this.#chain[0]!.end();
        return;
      default:
    }
  }

  error(err: Error): void {
    const ex = this.#ex;
    const mode = this.#mode;
    if (mode === Mode.Over) return;
    this.#teardown();
    if (mode === Mode.Head) {
      if (!ex.canAnswer) return; // the client left; nothing to answer
      const { config, metrics, log } = ex.edge;
      if (isBodyTooLarge(err)) {
        return ex.answer({ status: 413, code: ERR.BODY_TOO_LARGE, body: { error: 'Payload Too Large', message: `Request body exceeds ${config.maxBodyBytes} bytes` }, close: true });
      }
      const f = classifyUpstreamError(err);
      metrics.upstreamErrors.inc({ kind: f.kind });
      log.warn({ kind: f.kind, err: err.message }, 'upstream request failed');
      return ex.answer({ status: f.status, code: f.code, body: { error: f.status === 504 ? 'Gateway Timeout' : 'Bad Gateway', message: f.message } });
    }
    if (ex.res.destroyed) return; // the client left first
    if (mode === Mode.Whole) {
      ex.edge.metrics.upstreamErrors.inc({ kind: 'reset' });
      return ex.fail(Object.assign(upstreamCut(), { cause: err }), 'upstream response failed');
    }
    if (mode !== Mode.None) ex.fail(err, 'response stream failed');
  }

  #fail(err: Error): void {
    if (this.#mode === Mode.Over && this.#ex.res.writableEnded) return;
    this.#teardown();
    if (this.#ex.res.destroyed) return;
    this.#ex.fail(err, 'response stream failed');
  }

  /** Drain: end a long-lived stream cleanly now. */
  #endHere(): void {
    if (this.#mode === Mode.Over || this.#ending) return;
    this.#ending = true;
    if (this.#mode === Mode.Chain) {
      this.#chain[0]!.end();
    } else {
      this.#mode = Mode.Over;
      this.#sendHead();
      this.#ex.res.end();
    }
    this.control?.abort();
  }

  /** The response is finished or the client went away (the response's 'close'). */
  closed(): void {
    if (this.#sse) this.#ex.edge.metrics.openStreams.dec();
    // A finished response has nothing left upstream, or aborted it itself (drain).
    if (this.#mode !== Mode.Over && !this.#ex.res.writableFinished) this.#teardown();
  }
}
