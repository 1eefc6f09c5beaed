/** Send exact bytes over TCP and read the response: for request shapes no HTTP client will produce. */
import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly head: string;
  readonly body: string;
  /** Whether the server closed the connection. */
  readonly closed: boolean;
}

export async function rawRequest(base: string, bytes: string | Buffer, opts: { timeoutMs?: number } = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let data = '';
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      const sep = data.indexOf('\r\n\r\n');
      const head = sep === -1 ? data : data.slice(0, sep);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (!m) return reject(new Error(`no HTTP response: ${JSON.stringify(data.slice(0, 200))}`));
      resolve({ status: Number(m[1]), head, body: sep === -1 ? '' : data.slice(sep + 4), closed });
    };
    const timer = setTimeout(() => done(false), opts.timeoutMs ?? 5000);
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      // One complete response with a Content-Length is enough.
      const sep = data.indexOf('\r\n\r\n');
      const cl = /\r\ncontent-length: (\d+)/i.exec(data.slice(0, sep === -1 ? undefined : sep));
      if (sep !== -1 && cl && data.length >= sep + 4 + Number(cl[1])) done(false);
    });
    socket.on('end', () => done(true));
    socket.on('error', (err) => (data ? done(true) : reject(err)));
    socket.write(bytes);
  });
}
