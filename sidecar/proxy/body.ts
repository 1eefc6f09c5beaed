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
import { bodyKind, hasBody } from './media-type.ts';

const tooLarge = (max: number): Reply => ({
  status: 413,
  code: ERR.BODY_TOO_LARGE,
  body: { error: 'Payload Too Large', message: `Request body exceeds ${max} bytes` },
  // The rest of the body is unread: the connection cannot be reused.
  close: true,
});

export async function readRequestBody(req: IncomingMessage, ctx: RequestContext, max: number): Promise<{ reply?: Reply; stream?: Readable }> {
  if (!hasBody(req.headers)) return {};
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > max) return { reply: tooLarge(max) };

  if (bodyKind(req.headers['content-type']) === 'json') {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > max) return { reply: tooLarge(max) };
      chunks.push(chunk);
    }
    ctx.body = Buffer.concat(chunks, size);
    return {};
  }

  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > max) cb(Object.assign(new Error(`Request body exceeds ${max} bytes`), { code: ERR.BODY_TOO_LARGE }));
      else cb(null, chunk);
    },
  });
  req.on('error', (err) => counter.destroy(err));
  return { stream: req.pipe(counter) };
}
