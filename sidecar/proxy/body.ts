/**
 * The request body: JSON bodies (every MCP JSON-RPC POST) are read into memory within the body cap,
 * because tool policy, audit and request DLP must see the whole JSON-RPC message before anything
 * reaches the upstream. Any other body streams through unbuffered with a byte count that stops it
 * at the cap. Either way more than the cap is a 413 (RFC 9110 15.5.14), checked first against a
 * declared Content-Length so an oversized upload is refused before it is read.
 */
import type { IncomingMessage } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import type { Reply, RequestContext } from '../context.ts';
import { ERR } from '../errors.ts';
import { bodyKind } from './media-type.ts';

const tooLarge = (max: number): Reply => ({
  status: 413,
  code: ERR.BODY_TOO_LARGE,
  body: { error: 'Payload Too Large', message: `Request body exceeds ${max} bytes` },
  // The rest of the body is unread: the connection cannot be reused.
  close: true,
});

/** What became of the body: read into ctx.body, a stream to forward, a refusal, or the client left. */
export type BodyResult = { readonly reply?: Reply; readonly stream?: Readable; readonly gone?: true };

const noop = (): void => {};

/** Read a JSON body within the cap; resolves `gone` when the client resets or the framing breaks. */
function readWhole(req: IncomingMessage, ctx: RequestContext, max: number): Promise<BodyResult> {
  if (req.destroyed) return Promise.resolve({ gone: true });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        cleanup();
        // Stop reading; the reply closes the connection, so the rest is never read.
        req.pause();
        resolve({ reply: tooLarge(max) });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      ctx.body = Buffer.concat(chunks, size);
      resolve({});
    };
    const onGone = (): void => {
      cleanup();
      resolve({ gone: true });
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('aborted', onGone);
      req.off('close', onClose);
    };
    // 'close' before 'end' is a body cut short (a reset, a malformed chunk): Node may emit no error.
    const onClose = (): void => {
      if (!req.complete) onGone();
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('aborted', onGone);
    req.on('close', onClose);
  });
}

/**
 * Read or wrap the body of a request that has one (the edge checks hasBody first). A promise only
 * for a JSON body, which is read whole; a refusal or a stream is known at once.
 */
export function readRequestBody(req: IncomingMessage, ctx: RequestContext, max: number): BodyResult | Promise<BodyResult> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > max) return { reply: tooLarge(max) };

  if (bodyKind(req.headers['content-type']) === 'json') return readWhole(req, ctx, max);

  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > max) cb(Object.assign(new Error(`Request body exceeds ${max} bytes`), { code: ERR.BODY_TOO_LARGE }));
      else cb(null, chunk);
    },
  });
  // Every stream has an error path: the counter may be refused before anyone reads it.
  counter.on('error', noop);
  req.on('error', (err) => counter.destroy(err));
  req.on('close', () => {
    if (!req.complete) counter.destroy(Object.assign(new Error('the client closed the request body early'), { code: 'ECONNRESET' }));
  });
  return { stream: req.pipe(counter) };
}
