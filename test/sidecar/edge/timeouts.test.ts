/**
 * The wait for response headers, per request kind (issue 15, item 4): servers in JSON response
 * mode send their headers only when a tool is done, so a tools/call gets its own, long bound
 * (MCP_AUTH_UPSTREAM_TOOL_TIMEOUT_MS); everything else keeps MCP_AUTH_UPSTREAM_TIMEOUT_MS.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream, type Upstream } from '../../helpers/upstream.ts';
import { startSidecar, type RunningSidecar } from '../../helpers/sidecar.ts';

const KEY = 'timeouts-key-1618033988';
const rpc = (method: string, params: Record<string, unknown> = {}): string => JSON.stringify({ jsonrpc: '2.0', id: 1, method, params });

describe('headers timeout per request kind', () => {
  let up: Upstream;
  let sc: RunningSidecar;
  before(async () => {
    // Answers every POST after 2.5 s, as a JSON-mode server does when its work takes that long (undici's
    // coarse timers fire up to about a second late, so the gap to the 200 ms bound is wide).
    up = await startUpstream((_req, res, body) => setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(body), 2500));
    sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: KEY, MCP_AUTH_UPSTREAM_TIMEOUT_MS: '200', MCP_AUTH_UPSTREAM_TOOL_TIMEOUT_MS: '8000' });
  });
  after(async () => {
    await sc.close();
    await up.close();
  });
  const post = (body: string): Promise<Response> => fetch(`${sc.url}/mcp`, { method: 'POST', headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, body });

  test('a tools/call slower than the ordinary timeout completes under the tool timeout', async () => {
    const body = rpc('tools/call', { name: 'slow', arguments: {} });
    const res = await post(body);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), body);
  });

  test('a batch holding a tools/call gets the tool timeout too', async () => {
    const body = `[${rpc('tools/list')},${rpc('tools/call', { name: 'slow' }).replace('"id":1', '"id":2')}]`;
    assert.equal((await post(body)).status, 200);
  });

  test('any other request as slow gets 504 after the ordinary timeout', async () => {
    const res = await post(rpc('tools/list'));
    assert.equal(res.status, 504);
    assert.deepEqual(await res.json(), { error: 'Gateway Timeout', message: 'The MCP server did not answer in time' });
  });
});
