/**
 * A stdio-only MCP server protected in its own pod, end to end: the webhook injects a pod running
 * `server-everything stdio`, the pod runs here as the kubelet would (test/helpers/pod.ts: the
 * wrapped command through /bin/sh, the shipped sidecar and bridge bundles), and the official SDK
 * clients, v1 and v2 (2025 sessions and 2026-07-28 stateless), reach it through the sidecar.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client as ClientV2 } from '@modelcontextprotocol/client';
import { ResourceListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { connectClient } from '../helpers/mcp-client.ts';
import { startStdioPod, type StdioPod } from '../helpers/stdio-pod.ts';
import { connectV2, textOf, type V2Options } from '../helpers/v2-client.ts';
import { until } from '../helpers/wait.ts';

const AWS = 'AKIAQ3EGRTYLX5BVN2PK';

const v2 = async (p: StdioPod, mode: V2Options['mode'], onResourcesChanged?: () => void): Promise<ClientV2> => (await connectV2(p.url, p.headers, { mode, ...(onResourcesChanged ? { onResourcesChanged } : {}) })).client;
const v1 = (p: StdioPod): Promise<ClientV1> => connectClient(new URL(p.url).origin, 'streamableHttp', p.headers);

describe('server-everything over stdio, injected and run as a pod', () => {
  let p: StdioPod;
  const clients: Array<{ close(): Promise<void> }> = [];
  const track = <C extends { close(): Promise<void> }>(c: C): C => (clients.push(c), c);

  before(async () => {
    p = await startStdioPod({ server: 'everything', annotations: { 'mcp-warden.dev/deny-tools': 'get-env' } });
    await p.pod.waitReady();
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await p?.pod.stop();
  });

  test('the pod runs what the webhook rendered: the server under the /bin/sh wrapper, the bridge from the sidecar image', () => {
    const server = p.pod.container('server').spec;
    assert.equal((server.command as string[])[0], '/bin/sh');
    assert.deepEqual((server.command as string[]).slice(-3), ['node', '/app/dist/index.js', 'stdio']);
    assert.deepEqual(p.pod.container('mcp-warden-stdio').spec.command, ['/nodejs/bin/node', '/app/dist/stdio-bridge.mjs']);
    assert.match(p.pod.container('server').output(), /Starting default \(STDIO\) server/, "the server's stderr is the container log");
  });

  for (const [label, open] of [
    ['v1 client (2025 session)', (q: StdioPod) => v1(q)],
    ['v2 client, 2025 era', (q: StdioPod) => v2(q, 'legacy')],
    ['v2 client, 2026-07-28 (stateless)', (q: StdioPod) => v2(q, 'auto')],
  ] as const) {
    test(`${label}: tools, resources, prompts and progress through the sidecar`, async () => {
      const client = track(await open(p));
      if (client instanceof ClientV2) assert.equal(client.getProtocolEra(), label.includes('2026') ? 'modern' : 'legacy');
      assert.equal(client.getServerVersion()?.name, 'mcp-servers/everything', "the bridge presents the server's own identity");

      const { tools } = await client.listTools();
      const names = tools.map((t) => t.name);
      assert.ok(names.includes('echo') && names.includes('trigger-long-running-operation'), names.join(','));
      assert.ok(!names.includes('get-env'), 'the denied tool is filtered out of tools/list by the sidecar');
      assert.match(textOf(await client.callTool({ name: 'echo', arguments: { message: `hello from ${label}` } })), new RegExp(`Echo: hello from ${label.replace(/[()]/g, '\\$&')}`));

      const { resources } = await client.listResources();
      const doc = resources.find((r) => r.uri.startsWith('demo://resource/static/document/'));
      assert.ok(doc, resources.map((r) => r.uri).join(','));
      const read = await client.readResource({ uri: doc.uri });
      assert.equal(read.contents[0]?.uri, doc.uri);
      const { resourceTemplates } = await client.listResourceTemplates();
      assert.ok(resourceTemplates.some((t) => t.uriTemplate.includes('{')), 'resource templates are relayed');

      const { prompts } = await client.listPrompts();
      assert.ok(prompts.some((x) => x.name === 'args-prompt'), prompts.map((x) => x.name).join(','));
      const prompt = await client.getPrompt({ name: 'args-prompt', arguments: { city: 'Lisbon' } });
      assert.match(JSON.stringify(prompt.messages), /Lisbon/);

      const progress: number[] = [];
      const onprogress = (x: { progress: number }) => void progress.push(x.progress);
      const long = { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 3 } };
      const done = client instanceof ClientV2 ? await client.callTool(long, { onprogress }) : await client.callTool(long, undefined, { onprogress });
      assert.match(textOf(done), /Long running operation completed/);
      // server-everything sends its last progress notification without waiting for it, so it can
      // follow the result (the SDK then drops it, with or without the bridge): at least the others.
      assert.ok(progress.length >= 2, `progress: ${progress.join(',')}`);
      assert.deepEqual(progress, [...progress].sort((a, b) => a - b), 'in order');
    });
  }

  test('two clients at once: each gets its own results and only its own progress, whatever ids and tokens they chose', async () => {
    const a = track(await v1(p));
    const b = track(await v2(p, 'auto'));
    // Both clients number requests from the same small integers and use them as progress tokens.
    const totalsA: number[] = [];
    const totalsB: number[] = [];
    const [ra, rb, ea, eb] = await Promise.all([
      a.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 3 } }, undefined, { onprogress: (x) => void totalsA.push(x.total!) }),
      b.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 5 } }, { onprogress: (x) => void totalsB.push(x.total!) }),
      a.callTool({ name: 'echo', arguments: { message: 'for a' } }),
      b.callTool({ name: 'echo', arguments: { message: 'for b' } }),
    ]);
    assert.match(textOf(ra), /Steps: 3/);
    assert.match(textOf(rb), /Steps: 5/);
    assert.equal(textOf(ea), 'Echo: for a');
    assert.equal(textOf(eb), 'Echo: for b');
    assert.ok(totalsA.length >= 2 && totalsA.every((t) => t === 3), `a's progress totals: ${totalsA.join(',')}`);
    assert.ok(totalsB.length >= 4 && totalsB.every((t) => t === 5), `b's progress totals: ${totalsB.join(',')}`);
  });

  test('a denied tool is refused by the sidecar and never reaches the stdio server', async () => {
    const client = track(await v1(p));
    await assert.rejects(client.callTool({ name: 'get-env', arguments: {} }), /Tool "get-env" is not permitted/);
    const modern = track(await v2(p, 'auto'));
    await assert.rejects(modern.callTool({ name: 'get-env', arguments: {} }), /Tool "get-env" is not permitted/);
  });

  test('a secret in a response is redacted by the sidecar, over SSE (2025 sessions) and JSON (2026-07-28)', async () => {
    for (const client of [track(await v1(p)), track(await v2(p, 'legacy')), track(await v2(p, 'auto'))]) {
      const text = textOf(await client.callTool({ name: 'echo', arguments: { message: `key ${AWS} end` } }));
      assert.ok(!text.includes(AWS), text);
      assert.match(text, /^Echo: key \[REDACTED:[a-z-]+\] end$/);
    }
  });

  test("the server's list_changed reaches every client, in both eras", async () => {
    let seenA = 0;
    let seenB = 0;
    let seenModern = 0;
    const a = track(await v1(p));
    const b = track(await v1(p));
    a.setNotificationHandler(ResourceListChangedNotificationSchema, () => void seenA++);
    b.setNotificationHandler(ResourceListChangedNotificationSchema, () => void seenB++);
    const modern = track(await v2(p, 'auto', () => void seenModern++));
    // The 2026-07-28 client opens its subscriptions/listen stream during connect; a 2025 client's
    // GET stream opens right after initialize. Give both a moment to be open before the change.
    await until(async () => (await a.ping(), await b.ping(), true), 'both sessions to answer ping');
    // A gzip-file-as-resource call registers a new resource: the server sends resources/list_changed once.
    const r = await a.callTool({ name: 'gzip-file-as-resource', arguments: { name: `n-${Date.now()}.gz`, data: 'data:text/plain;base64,aGVsbG8=' } });
    assert.ok(!r.isError, textOf(r));
    await until(() => seenA > 0 && seenB > 0 && seenModern > 0, `list_changed at every client (a ${seenA}, b ${seenB}, 2026-07-28 ${seenModern})`);
    void modern;
  });
});
