/**
 * Issue 10, acceptance 4: request DLP with mirrored headers. The v2 client mirrors an x-mcp-header
 * argument into Mcp-Param-Region and a resource URI into Mcp-Name; with MCP_AUTH_DLP_REQUESTS on, a
 * secret there must reach the server in no header and no body, and the call must still work (the
 * headers follow the redacted body) or be refused by the sidecar with a clear 4xx.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MODERN_META, b64 } from '../../helpers/modern-request.ts';
import { startSidecar, type RunningSidecar } from '../../helpers/sidecar.ts';
import { LEAKED, startV2Server, type V2Server } from '../../helpers/v2-server.ts';
import { connectV2, type V2Client } from '../../helpers/v2-client.ts';

const KEY = 'dlp-headers-key-0123456789';
const REDACTED = '[REDACTED:github-pat]';

/** What the server received through the sidecar since `from`, headers and bodies, as one text. */
const received = (server: V2Server, from: number): string =>
  server.seen
    .slice(from)
    .map((s) => JSON.stringify(s.headers) + s.body)
    .join('\n');

describe('request DLP covers the mirrored headers (redact mode)', () => {
  let server: V2Server;
  let sidecar: RunningSidecar;
  let via: V2Client;
  before(async () => {
    server = await startV2Server('json');
    sidecar = await startSidecar({ MCP_AUTH_UPSTREAM_URL: new URL(server.url).origin, MCP_AUTH_KEY: KEY, MCP_AUTH_DLP_REQUESTS: 'true' });
    via = await connectV2(`${sidecar.url}/mcp`, { 'X-API-Key': KEY });
    await via.client.listTools(); // the tool definitions the client mirrors x-mcp-header arguments from
  });
  after(async () => {
    await via?.close();
    await sidecar?.close();
    await server?.close();
  });

  test('a secret in an x-mcp-header argument: header and body redacted alike, the call succeeds', async () => {
    const from = server.seen.length;
    const r = await via.client.callTool({ name: 'query', arguments: { region: LEAKED, sql: 'select 1' } });
    assert.deepEqual(r.content, [{ type: 'text', text: `region=${REDACTED} sql=select 1` }]);
    const seen = server.seen.at(-1)!;
    assert.equal(seen.headers['mcp-param-region'], REDACTED);
    assert.equal(seen.headers['mcp-name'], 'query');
    assert.ok(!received(server, from).includes(LEAKED), 'the secret reached the server');
  });

  test('a secret in a non-ASCII argument: the Base64 sentinel is decoded, redacted and encoded again', async () => {
    const from = server.seen.length;
    const r = await via.client.callTool({ name: 'query', arguments: { region: `Zürich ${LEAKED}`, sql: 'select 2' } });
    assert.deepEqual(r.content, [{ type: 'text', text: `region=Zürich ${REDACTED} sql=select 2` }]);
    const header = server.seen.at(-1)!.headers['mcp-param-region'] as string;
    assert.equal(header, b64(`Zürich ${REDACTED}`));
    assert.ok(!received(server, from).includes(LEAKED) && !received(server, from).includes(Buffer.from(`Zürich ${LEAKED}`).toString('base64')));
  });

  test('a secret in a resource URI mirrored into Mcp-Name: both redacted, the read succeeds', async () => {
    const from = server.seen.length;
    const r = await via.client.readResource({ uri: `vault://items/${LEAKED}` }, { cacheMode: 'bypass' });
    assert.deepEqual(r.contents, [{ uri: `vault://items/${REDACTED}`, text: `item ${REDACTED}` }]);
    assert.equal(server.seen.at(-1)!.headers['mcp-name'], `vault://items/${REDACTED}`);
    assert.ok(!received(server, from).includes(LEAKED));
  });

  test('a header that carries a secret no argument has is refused by the sidecar, never forwarded', async () => {
    const from = server.seen.length;
    const res = await fetch(`${sidecar.url}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'x-api-key': KEY,
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'query',
        'mcp-param-region': LEAKED,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'query', arguments: { region: 'eu', sql: 's' }, _meta: MODERN_META } }),
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: number; message: string } };
    assert.equal(body.error.code, -32020);
    assert.match(body.error.message, /Mcp-Param-Region: its value is not the value of any argument/);
    assert.ok(!JSON.stringify(body).includes(LEAKED), 'the refusal never repeats an argument value');
    assert.equal(server.seen.length, from);
  });
});

describe('request DLP covers the mirrored headers (block mode)', () => {
  let server: V2Server;
  let sidecar: RunningSidecar;
  let via: V2Client;
  before(async () => {
    server = await startV2Server('json');
    sidecar = await startSidecar({ MCP_AUTH_UPSTREAM_URL: new URL(server.url).origin, MCP_AUTH_KEY: KEY, MCP_AUTH_DLP_REQUESTS: 'true', MCP_AUTH_DLP_MODE: 'block' });
    via = await connectV2(`${sidecar.url}/mcp`, { 'X-API-Key': KEY });
    await via.client.listTools();
  });
  after(async () => {
    await via?.close();
    await sidecar?.close();
    await server?.close();
  });

  test('a secret in a mirrored argument: the sidecar refuses with 400 naming the rule; nothing reaches the server', async () => {
    const from = server.seen.length;
    await assert.rejects(via.client.callTool({ name: 'query', arguments: { region: LEAKED, sql: 's' } }), /Request blocked by DLP rule\(s\): github-pat/);
    assert.equal(server.seen.length, from);
    const ok = await via.client.callTool({ name: 'query', arguments: { region: 'eu-west-3', sql: 's' } });
    assert.deepEqual(ok.content, [{ type: 'text', text: 'region=eu-west-3 sql=s' }]);
  });
});
