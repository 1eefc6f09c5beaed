/**
 * The upstream's response, relayed to the client. The response stages (stream cap, tools/list
 * filter, DLP) see the head first and may refuse it; the body then goes one of three ways:
 *
 * - whole: a rewritten body the upstream declared small (Content-Length up to WHOLE_BODY_MAX, not
 *   an event stream) is read complete, rewritten in memory and sent in one write with its own
 *   Content-Length. A failure is still a clean error status, since nothing was sent.
 * - streamed: anything else is piped through the rewriters as it arrives, its head sent at once
 *   (a client may wait for the head before the upstream writes anything).
 * - none: HEAD, 204, 304.
 *
 * Every stream here has an error path: the upstream body already has a listener (proxy/forward.ts),
 * every rewriter and the response get one, and any failure destroys all of them. Nothing a stage has
 * not processed is ever flushed: after the head was sent, a failure cuts the connection, which the
 * client sees as an incomplete response. Writes to the client keep their order: nothing is corked
 * (corking with a deferred uncork let the chunked terminator overtake the body's last part).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import type { BodyRewriter, UpstreamResponseHead } from '../context.ts';
import { discard, type UpstreamResponse } from '../proxy/forward.ts';
import { clientResponseHeaders } from '../proxy/headers.ts';
import { isLongLivedResponse } from '../proxy/lanes.ts';
import { bodyKind } from '../proxy/media-type.ts';
import { ERR, WardenError } from '../errors.ts';
import type { Exchange } from './exchange.ts';

/** The largest declared body that is rewritten whole rather than streamed. */
export const WHOLE_BODY_MAX = 64 * 1024;

const upstreamCut = (): WardenError => new WardenError(ERR.UPSTREAM_UNAVAILABLE, 502, 'The MCP server closed the connection before the response was complete');

export function relay(ex: Exchange, up: UpstreamResponse): void {
  const { ctx, res } = ex;
  const head: UpstreamResponseHead = { status: up.status, headers: up.headers as Record<string, string | string[]> };
  const declared = Number(head.headers['content-length'] ?? NaN);
  const rewriters: BodyRewriter[] = [];
  for (const stage of ctx.responseStages) {
    let out;
    try {
      out = stage(head, ctx);
    } catch (err) {
      discard(up.body);
      return ex.fail(err, 'response stage failed');
    }
    if (out === undefined) continue;
    if ('status' in out) {
      discard(up.body);
      return ex.answer(out);
    }
    rewriters.push(out);
  }
  const headers: OutgoingHttpHeaders = { ...clientResponseHeaders(head.headers), ...ctx.responseHeaders };
  if (rewriters.length > 0) delete headers['content-length'];

  const status = head.status;
  if (ctx.method === 'HEAD' || status === 204 || status === 304) {
    up.body.resume();
    ex.head(status, headers);
    res.end();
    return;
  }
  const sse = bodyKind(head.headers['content-type']) === 'sse';
  if (sse) {
    ex.edge.metrics.openStreams.inc();
    res.once('close', () => ex.edge.metrics.openStreams.dec());
  }
  if (rewriters.length > 0 && !sse && declared <= WHOLE_BODY_MAX) return relayWhole(ex, up.body, rewriters, status, headers, declared);
  relayStream(ex, up.body, rewriters, status, headers, sse && isLongLivedResponse(ctx, head));
}

function relayWhole(ex: Exchange, body: Readable, rewriters: readonly BodyRewriter[], status: number, headers: OutgoingHttpHeaders, declared: number): void {
  const { res } = ex;
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  const stop = (): void => {
    done = true;
    body.off('data', onData);
  };
  const onData = (c: Buffer): void => {
    size += c.length;
    // undici enforces the declared length; this bound holds even if it did not.
    if (size > declared) {
      stop();
      discard(body);
      ex.fail(upstreamCut(), 'upstream body longer than declared');
      return;
    }
    chunks.push(c);
  };
  body.on('data', onData);
  body.once('end', () => {
    if (done) return;
    stop();
    let out = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    try {
      for (const r of rewriters) out = r.whole(out);
    } catch (err) {
      return ex.fail(err, 'response body refused');
    }
    if (!ex.canAnswer) return;
    headers['content-length'] = out.length;
    ex.head(status, headers);
    res.end(out);
  });
  body.once('error', (err) => {
    if (done) return;
    stop();
    if (res.destroyed) return; // the client left first
    ex.edge.metrics.upstreamErrors.inc({ kind: 'reset' });
    ex.fail(Object.assign(upstreamCut(), { cause: err }), 'upstream response failed');
  });
  res.once('close', () => {
    if (done) return;
    stop();
    discard(body);
  });
}

function relayStream(ex: Exchange, source: Readable, rewriters: readonly BodyRewriter[], status: number, headers: OutgoingHttpHeaders, longLived: boolean): void {
  const { res } = ex;
  const chain: Transform[] = rewriters.map((r) => r.stream());
  let headSent = false;
  let failed = false;
  /** Set when the sidecar ended the stream itself (drain): the upstream's abort is expected. */
  let ending = false;
  /** Set when nothing more may be written (the response was ended here). */
  let closedHere = false;
  const sendHead = (): void => {
    if (headSent) return;
    headSent = true;
    ex.head(status, headers);
    // Node holds a head until the first body write; the client may be waiting for it.
    res.flushHeaders();
  };
  const teardown = (): void => {
    for (const s of chain) s.destroy();
    discard(source);
  };
  const fail = (err: Error): void => {
    if (failed) return;
    failed = true;
    teardown();
    if (res.destroyed) return;
    ex.fail(err, 'response stream failed');
  };
  // The head goes at once: a client may wait for it before the upstream writes anything (an event
  // stream, NDJSON progress lines). A failure after this cuts the connection.
  sendHead();

  source.on('error', (err) => {
    if (!ending) fail(err);
  });
  let last: Readable = source;
  for (const s of chain) {
    s.on('error', fail);
    last.pipe(s);
    last = s;
  }
  const out = last;
  const resume = (): void => {
    out.resume();
  };
  out.on('data', (chunk: Buffer) => {
    if (failed || closedHere) return;
    sendHead();
    if (!res.write(chunk)) {
      out.pause();
      res.once('drain', resume);
    }
  });
  out.once('end', () => {
    if (failed || closedHere) return;
    sendHead();
    res.end();
  });
  res.on('error', () => {});
  res.once('close', () => {
    if (res.writableFinished || failed) return;
    // The client left: stop reading, and let the upstream see the close.
    failed = true;
    teardown();
  });

  if (longLived) {
    // On drain, end the stream cleanly (what the stages hold is scanned and flushed); the client
    // reconnects to another replica.
    ex.edge.inflight.endOnDrain(res, () => {
      if (failed || ending) return;
      ending = true;
      const first = chain[0];
      if (first !== undefined) {
        source.unpipe(first);
        first.end();
      } else {
        closedHere = true;
        sendHead();
        res.end();
      }
      discard(source);
    });
  }
}
