/**
 * DLP through the real MCP SDK client and server-everything, over Streamable HTTP and SSE: secrets
 * echoed by a tool come back redacted, and the client still parses every message. With request
 * scanning on, a secret in tool arguments never reaches the MCP server.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useMcpStack } from '../helpers/stack.ts';
import { connectClient, type Transport } from '../helpers/mcp-client.ts';

const KEY = 'dlp-e2e-key-31415926';
const AWS = 'AKIAQ3EGRTYLX5BVN2PK';
const GITHUB = `ghp_${'aB3dE5fG7hJ9kL1mN3pQ5rS7tV9wX1yZ3b5D'.slice(0, 36)}`;
const EMAIL = 'alice.ops@example.org';

for (const transport of ['streamableHttp', 'sse'] as Transport[]) {
  describe(`DLP over ${transport}`, () => {
    const stack = useMcpStack(transport, { MCP_AUTH_KEY: KEY });

    test('secrets echoed by a tool come back redacted; every message parses', async () => {
      const client = await connectClient(stack.sidecar.url, transport, { 'X-API-Key': KEY });
      try {
        const res = await client.callTool({ name: 'echo', arguments: { message: `aws ${AWS} gh ${GITHUB} mail ${EMAIL} done` } });
        const text = (res.content as { text: string }[])[0]!.text;
        assert.match(text, /^Echo: aws .* done$/);
        for (const secret of [AWS, GITHUB, EMAIL]) assert.ok(!text.includes(secret), `${secret} leaked in ${text}`);
        assert.match(text, /REDACTED/);
        // The session still works after the rewritten message.
        const { tools } = await client.listTools();
        assert.ok(tools.length > 0);
      } finally {
        await client.close();
      }
      const metrics = await (await fetch(`${stack.sidecar.adminUrl}/metrics`)).text();
      assert.match(metrics, /mcp_warden_dlp_redactions_total\{rule="[^"]+",direction="response"\} [1-9]/);
      const lines = stack.sidecar.rawLogs();
      assert.ok(lines.includes('"msg":"dlp match"'), 'a log line per redaction');
      for (const secret of [AWS, GITHUB, EMAIL]) assert.ok(!lines.includes(secret), 'the secret is never logged');
    });
  });
}

describe('DLP on requests', () => {
  // Response DLP is off: whatever comes back is what the server received.
  const stack = useMcpStack('streamableHttp', { MCP_AUTH_KEY: KEY, MCP_AUTH_DLP_REQUESTS: 'true', MCP_AUTH_DLP_MODE: 'off' });
  test('a secret in tool arguments never reaches the MCP server', async () => {
    const client = await connectClient(stack.sidecar.url, 'streamableHttp', { 'X-API-Key': KEY });
    try {
      const res = await client.callTool({ name: 'echo', arguments: { message: `key ${AWS}` } });
      const text = (res.content as { text: string }[])[0]!.text;
      assert.ok(!text.includes(AWS), text);
      assert.match(text, /^Echo: key \[REDACTED/);
    } finally {
      await client.close();
    }
  });

  test('a body the scanner cannot read is refused, never passed unscanned', async () => {
    const { gzipSync } = await import('node:zlib');
    const rpc = JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { message: AWS } } });
    const headers = { 'x-api-key': KEY, accept: 'application/json, text/event-stream' };
    let res = await fetch(`${stack.sidecar.url}/mcp`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(rpc) });
    assert.equal(res.status, 415);
    res = await fetch(`${stack.sidecar.url}/mcp`, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: rpc });
    assert.equal(res.status, 415);
  });
});
