/**
 * An upstream that writes exact response bytes: the framing (Content-Length, chunked, or a body ended
 * by closing the connection), how the body is cut into writes, and faults (a reset before the head or
 * mid-body). Requests are read just enough to answer them (head, then a Content-Length body).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export type Framing = 'length' | 'chunked' | 'close';

export interface ScriptedResponse {
  readonly status?: number;
  /** Header lines besides the framing ones. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Buffer;
  readonly framing?: Framing;
  /** Sizes of the writes the body is cut into; the last size repeats. Default: one write. */
  readonly writes?: readonly number[];
  /** Yield to the event loop between writes, so each reaches the sidecar as its own read. */
  readonly yieldBetween?: boolean;
  /** Reset the connection: before any byte of the response, or after this many body bytes. */
  readonly resetAfter?: number | 'head';
  /** Wait this long before answering (a slow upstream). */
  readonly delayMs?: number;
}

export interface ScriptedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export interface ScriptedUpstream {
  readonly url: string;
  readonly requests: ScriptedRequest[];
  close(): Promise<void>;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

async function writeResponse(socket: Socket, r: ScriptedResponse): Promise<void> {
  if (r.delayMs) await new Promise((res) => setTimeout(res, r.delayMs));
  if (r.resetAfter === 'head') return void socket.resetAndDestroy();
  const framing = r.framing ?? 'length';
  const body = r.body ?? Buffer.alloc(0);
  let head = `HTTP/1.1 ${r.status ?? 200} X\r\n`;
  for (const [k, v] of Object.entries(r.headers ?? {})) head += `${k}: ${v}\r\n`;
  if (framing === 'length') head += `content-length: ${body.length}\r\n`;
  else if (framing === 'chunked') head += 'transfer-encoding: chunked\r\n';
  else head += 'connection: close\r\n';
  socket.write(`${head}\r\n`);
  const sizes = r.writes ?? [Math.max(1, body.length)];
  let off = 0;
  let i = 0;
  while (off < body.length) {
    const n = Math.max(1, sizes[Math.min(i, sizes.length - 1)]!);
    i++;
    let part = body.subarray(off, off + n);
    if (r.resetAfter !== undefined && off + part.length > r.resetAfter) {
      part = part.subarray(0, r.resetAfter - off);
      if (part.length > 0) socket.write(framing === 'chunked' ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part]) : part);
      await tick();
      return void socket.resetAndDestroy();
    }
    off += part.length;
    socket.write(framing === 'chunked' ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]) : part);
    if (r.yieldBetween) await tick();
  }
  if (r.resetAfter !== undefined && r.resetAfter >= body.length) {
    await tick();
    return void socket.resetAndDestroy();
  }
  if (framing === 'chunked') socket.write('0\r\n\r\n');
  if (framing === 'close') socket.end();
}

/** `script(request)` says how to answer each request. */
export async function startScriptedUpstream(script: (req: ScriptedRequest) => ScriptedResponse): Promise<ScriptedUpstream> {
  const requests: ScriptedRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    let busy = false;
    const next = async (): Promise<void> => {
      if (busy) return;
      const sep = buf.indexOf('\r\n\r\n');
      if (sep === -1) return;
      const lines = buf.subarray(0, sep).toString('latin1').split('\r\n');
      const [method = '', path = ''] = (lines[0] ?? '').split(' ');
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const c = l.indexOf(':');
        headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
      }
      const len = Number(headers['content-length'] ?? 0);
      if (buf.length < sep + 4 + len) return;
      const req = { method, path, headers, body: Buffer.from(buf.subarray(sep + 4, sep + 4 + len)) };
      buf = buf.subarray(sep + 4 + len);
      requests.push(req);
      busy = true;
      await writeResponse(socket, script(req));
      busy = false;
      if (!socket.destroyed) void next();
    };
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      void next();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
