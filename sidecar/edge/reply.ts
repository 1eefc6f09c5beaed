/**
 * The bytes of every response the sidecar writes itself (refusals, errors, metadata): one place for
 * framing and for the keep-alive decision.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Reply } from '../context.ts';
import { ERR, WardenError } from '../errors.ts';
import { hasBody } from '../proxy/media-type.ts';

/**
 * Whether the connection must close after this response: the reply asks for it, the sidecar is
 * draining, or the request's body was not read. Node would otherwise read and discard an unread
 * body to keep the connection, so a refused client could go on uploading for as long as it likes.
 */
function mustClose(req: IncomingMessage, reply: Pick<Reply, 'close'>, draining: boolean): boolean {
  return reply.close === true || draining || (hasBody(req.headers) && !req.complete);
}

/** Write a Reply: JSON for objects, text otherwise, always with a Content-Length. */
export function writeReply(req: IncomingMessage, res: ServerResponse, reply: Reply, extra: Readonly<Record<string, string>>, draining: boolean): void {
  const isObj = reply.body !== undefined && typeof reply.body !== 'string';
  const text = reply.body === undefined ? '' : isObj ? JSON.stringify(reply.body) : String(reply.body);
  const headers: OutgoingHttpHeaders = { ...extra, ...reply.headers };
  if (text !== '' && headers['content-type'] === undefined) headers['content-type'] = isObj ? 'application/json' : 'text/plain; charset=utf-8';
  headers['content-length'] = Buffer.byteLength(text);
  if (mustClose(req, reply, draining)) headers.connection = 'close';
  res.writeHead(reply.status, headers);
  res.end(req.method === 'HEAD' ? undefined : text);
}

const TEXT: Readonly<Record<number, string>> = { 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

/** The Reply for an error that ends a request before anything was sent. */
export function errorReply(err: unknown): Reply {
  if (err instanceof WardenError) return { status: err.status, code: err.code, body: { error: TEXT[err.status] ?? 'Error', message: err.message } };
  return { status: 500, code: ERR.INTERNAL, body: { error: 'Internal Server Error', message: 'The sidecar failed to handle the request' } };
}
