/**
 * Other stdio servers in their own pods: the reference `server-memory` (injected by the CLI,
 * `mcp-warden inject -f`, its knowledge graph on an emptyDir), and a server that asks its client
 * for sampling, elicitation and roots, which one stdio process serving many HTTP clients cannot
 * relay: each request gets a clear error at once, never a hang.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client as ClientV2 } from '@modelcontextprotocol/client';
import { connectClient } from '../helpers/mcp-client.ts';
import { startStdioPod, type StdioPod } from '../helpers/stdio-pod.ts';
import { connectV2, textOf } from '../helpers/v2-client.ts';
import { until } from '../helpers/wait.ts';

const modernClient = async (p: StdioPod): Promise<ClientV2> => (await connectV2(p.url, p.headers)).client;

describe('server-memory over stdio, injected by the CLI', () => {
  let p: StdioPod;
  before(async () => {
    p = await startStdioPod({
      server: 'memory',
      cli: true,
      container: { env: [{ name: 'MEMORY_FILE_PATH', value: '/data/memory.jsonl' }], volumeMounts: [{ name: 'data', mountPath: '/data' }] },
      volumes: [{ name: 'data', emptyDir: {} }],
    });
    await p.pod.waitReady();
  });
  after(() => p?.pod.stop());

  test('a 2026-07-28 client writes entities, a 2025 client reads them back; the graph is on the pod volume', async () => {
    const writer = await modernClient(p);
    const reader = await connectClient(new URL(p.url).origin, 'streamableHttp', p.headers);
    try {
      assert.equal(writer.getServerVersion()?.name, 'memory-server');
      const created = await writer.callTool({ name: 'create_entities', arguments: { entities: [{ name: 'warden', entityType: 'project', observations: ['guards stdio servers'] }] } });
      assert.ok(!created.isError, textOf(created));
      const graph = await reader.callTool({ name: 'read_graph', arguments: {} });
      assert.match(textOf(graph), /guards stdio servers/);
      assert.match(readFileSync(join(p.pod.volumeDir('data'), 'memory.jsonl'), 'utf8'), /"name":"warden"/);
    } finally {
      await writer.close();
      await reader.close();
    }
  });
});

describe('a stdio server that asks its client things', () => {
  let p: StdioPod;
  before(async () => {
    p = await startStdioPod({ server: 'asks' });
    await p.pod.waitReady();
  });
  after(() => p?.pod.stop());

  for (const [tool, method] of [
    ['ask-sampling', 'sampling/createMessage'],
    ['ask-elicitation', 'elicitation/create'],
    ['ask-roots', 'roots/list'],
  ] as const) {
    test(`${method} from the server is refused with a clear error, and the client's call completes`, async () => {
      for (const client of [await connectClient(new URL(p.url).origin, 'streamableHttp', p.headers), await modernClient(p)]) {
        try {
          const r = await client.callTool({ name: tool, arguments: {} });
          assert.equal(r.isError, true);
          assert.match(textOf(r), new RegExp(`^refused: -32601 MCP error -32601: mcp-warden stdio bridge: ${method.replace('/', '\\/')} from a stdio server is not supported: one server process serves many HTTP clients`));
        } finally {
          await client.close();
        }
      }
    });
  }

  test("a client's cancelled call is cancelled at the server, for both eras", async () => {
    const log = () => p.pod.container('server').output();
    for (const client of [await connectClient(new URL(p.url).origin, 'streamableHttp', p.headers), await modernClient(p)]) {
      try {
        const before = (log().match(/^cancelled /gm) ?? []).length;
        const waiting = (log().match(/^waiting /gm) ?? []).length;
        const ac = new AbortController();
        const params = { name: 'wait-for-cancel', arguments: {} };
        const call = client instanceof ClientV2 ? client.callTool(params, { signal: ac.signal }) : client.callTool(params, undefined, { signal: ac.signal });
        await until(() => (log().match(/^waiting /gm) ?? []).length > waiting, 'the server to start the call');
        ac.abort();
        await assert.rejects(call);
        await until(() => (log().match(/^cancelled /gm) ?? []).length > before, 'the server to see notifications/cancelled');
      } finally {
        await client.close();
      }
    }
  });
});
