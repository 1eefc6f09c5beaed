/**
 * Every stream the edge creates or receives has an error path (issue 9, items 1 and 2): a request
 * body nobody reads that then breaks, and an upstream body the sidecar refuses and throws away,
 * end quietly instead of as an unhandled 'error' event (which kills the process).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { readRequestBody } from '../../../sidecar/proxy/body.ts';
import { makeContext } from '../../helpers/context.ts';
import { startUpstream } from '../../helpers/upstream.ts';
import { startSidecar } from '../../helpers/sidecar.ts';

/** A request stream as Node's server hands it over: headers, and a body that may break. */
function incoming(headers: Record<string, string>): IncomingMessage {
  return Object.assign(new PassThrough(), { headers, complete: false }) as unknown as IncomingMessage;
}

test('a streamed request body that breaks before anyone reads it ends quietly', async () => {
  const req = incoming({ 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
  const r = await readRequestBody(req, makeContext(), 1024);
  assert.ok(r.stream, 'a non-JSON body is streamed');
  // Not events.once: it rejects on the 'error' that destroying the stream emits first.
  const stream = r.stream;
  const closed = new Promise((resolve) => stream.once('close', resolve));
  // As Node does when the client resets mid-body or sends a malformed chunk, while the pipeline
  // refuses the request and never forwards the stream.
  req.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  await closed;
  assert.equal(r.stream.destroyed, true);
});

test('a JSON request body cut short resolves as gone, never as an error', async () => {
  const req = incoming({ 'content-type': 'application/json', 'content-length': '100' });
  const pending = readRequestBody(req, makeContext(), 1024);
  (req as unknown as PassThrough).write('{"jsonrpc":');
  req.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  assert.deepEqual(await pending, { gone: true });
});

for (const encoding of ['zstd', 'compress', 'gzip, gzip']) {
  test(`an upstream body refused for Content-Encoding "${encoding}" is thrown away quietly; the sidecar serves on`, async () => {
    const up = await startUpstream((req, res) => {
      if (req.url === '/refused') return void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encoding }).end('x'.repeat(20_000));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    const sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url });
    try {
      const refused = await fetch(`${sc.url}/refused`);
      assert.equal(refused.status, 502);
      assert.match(((await refused.json()) as { message: string }).message, /cannot scan/);
      await tick();
      await tick();
      const ok = await fetch(`${sc.url}/ok`);
      assert.equal(ok.status, 200);
    } finally {
      await sc.close();
      await up.close();
    }
  });
}
