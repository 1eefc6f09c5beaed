/**
 * Requests Node's parser refuses (smuggling shapes, bare LF, bad chunking, oversize headers, slow
 * headers) never reach a handler: they get a status and the connection is closed. Never
 * `insecureHTTPParser`.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';

export function createClientErrorHandler(deps: { metrics: Metrics; log: Logger }): (err: NodeJS.ErrnoException, socket: Socket) => void {
  return (err, socket) => {
    socket.on('error', () => {});
    if (!socket.writable) return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const text = status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request';
    const body = JSON.stringify({ error: text, message: status === 400 ? 'Malformed HTTP request' : text });
    // A response may already be under way on this socket (a body that broke mid-request): then
    // there is nothing left to say, only to close.
    if ((socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) return void socket.destroy();
    socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    deps.metrics.requests.inc({ class: `${Math.floor(status / 100)}xx`, method: 'unknown' });
    deps.log.info({ status, code: err.code }, 'malformed request refused');
  };
}
