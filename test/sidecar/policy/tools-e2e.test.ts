/**
 * Tool policy end to end: the official MCP SDK client, the sidecar, and the real server-everything,
 * over Streamable HTTP and over the older SSE transport. With MCP_AUTH_ALLOW_TOOLS excluding
 * get-env: get-env is absent from tools/list, a call to it is refused with a message naming it and
 * never reaches the upstream, and each JSON-RPC request leaves an audit line without its arguments.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useMcpStack } from '../../helpers/stack.ts';
import { connectClient, type Transport } from '../../helpers/mcp-client.ts';

const KEY = 'policy-e2e-key-0123456789abcdef';
const SECRET = 'ARG-SECRET-7d1e0c55b2';
const ALLOWED = ['echo', 'get-sum', 'trigger-long-running-operation'];
/** What server-everything prints for every client message that reaches it. */
const UPSTREAM_SAW = { streamableHttp: /Received MCP POST request/g, sse: /Client Message from/g } as const;

const count = (text: string, re: RegExp): number => text.match(re)?.length ?? 0;

for (const transport of ['streamableHttp', 'sse'] as Transport[]) {
  describe(`tool policy over ${transport}`, () => {
    const stack = useMcpStack(transport, { MCP_AUTH_KEY: KEY, MCP_AUTH_ALLOW_TOOLS: ALLOWED.join(',') });

    test('tools/list shows only allowed tools; a forbidden call is refused before the upstream; audit lines written', async () => {
      const client = await connectClient(stack.sidecar.url, transport, { 'X-API-Key': KEY });
      try {
        const { tools } = await client.listTools();
        assert.deepEqual(tools.map((t) => t.name).sort(), [...ALLOWED].sort());

        const ok = await client.callTool({ name: 'echo', arguments: { message: SECRET } });
        assert.match(JSON.stringify(ok.content), new RegExp(SECRET));

        const seenBefore = count(stack.upstream.output(), UPSTREAM_SAW[transport]);
        // Streamable HTTP: a JSON-RPC error response (McpError). SSE: the SDK rejects a non-2xx POST
        // with its body in the message, where the JSON string escapes the quotes.
        const refusal = transport === 'sse' ? /HTTP 403\): .*Tool \\"get-env\\" is not permitted/ : /MCP error -32602: Tool "get-env" is not permitted/;
        await assert.rejects(client.callTool({ name: 'get-env', arguments: { secret: SECRET } }), refusal);
        // Another request after the refusal proves the session still works and flushes upstream logs.
        const sum = await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
        assert.match(JSON.stringify(sum.content), /5/);
        // The child's stdout may trail the HTTP answer: wait (bounded) for get-sum's line, then compare.
        for (let i = 0; i < 100 && count(stack.upstream.output(), UPSTREAM_SAW[transport]) < seenBefore + 1; i++) await new Promise((r) => setTimeout(r, 50));
        assert.equal(count(stack.upstream.output(), UPSTREAM_SAW[transport]), seenBefore + 1, 'only the get-sum call reached the upstream');
      } finally {
        await client.close();
      }

      if (process.env.SHOW_AUDIT) console.error(stack.sidecar.rawLogs());
      const audits = stack.sidecar.logs.filter((l) => 'decision' in l && 'method' in l);
      const denied = audits.filter((l) => l.tool === 'get-env');
      assert.equal(denied.length, 1, JSON.stringify(audits));
      assert.equal(denied[0]!.decision, 'deny');
      assert.equal(denied[0]!.status, transport === 'sse' ? 403 : 200);
      assert.match(String(denied[0]!.identity), /^key:/);
      assert.equal(denied[0]!.clientIp, '127.0.0.1');
      assert.match(String(denied[0]!.argsSha256), /^[0-9a-f]{64}$/);
      const echo = audits.find((l) => l.tool === 'echo');
      assert.equal(echo?.decision, 'allow');
      assert.ok(audits.some((l) => l.method === 'tools/list' && l.decision === 'allow'));
      assert.ok(!stack.sidecar.rawLogs().includes(SECRET), 'tool arguments never reach the logs');

      const metrics = await (await fetch(`${stack.sidecar.adminUrl}/metrics`)).text();
      assert.match(metrics, /mcp_warden_tool_calls_total\{tool="get-env",decision="deny"\} 1/);
      assert.match(metrics, /mcp_warden_tool_calls_total\{tool="echo",decision="allow"\} 1/);
    });
  });
}
