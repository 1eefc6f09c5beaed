import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRedactor } from '../../../sidecar/dlp/redactor.ts';
import { createDlpTransform } from '../../../sidecar/dlp/transform.ts';
import { eventData, parseEventLines, SseSplitter } from '../../../sidecar/stream/sse.ts';
import { chunk, runTransform, seededText } from './secrets.ts';

const redactor = createRedactor({ patterns: [] });
const SSE = { 'content-type': 'text/event-stream' };

const eol = fc.constantFrom('\n', '\r\n');
/** A stream of events in the shapes MCP servers send, with secrets in JSON-RPC results. */
const sseStream = fc
  .array(
    fc.tuple(
      fc.oneof(
        seededText.map((s) => ({ kind: 'json' as const, text: s.text, secrets: s.secrets })),
        seededText.map((s) => ({ kind: 'plain' as const, text: s.text.replace(/[\r\n]/g, ' '), secrets: s.secrets })),
        fc.constant({ kind: 'endpoint' as const, text: '/message?sessionId=0b1e7c4a-4d1f-4f55-9a43-3a4ac62b9f2d', secrets: [] as string[] }),
      ),
      eol,
      fc.nat(1000),
    ),
    { minLength: 1, maxLength: 6 },
  )
  .map((evs) => {
    let raw = '';
    const secrets: string[] = [];
    evs.forEach(([ev, e, id], i) => {
      if (ev.kind === 'endpoint') raw += `event: endpoint${e}data: ${ev.text}${e}${e}`;
      else if (ev.kind === 'json') raw += `event: message${e}id: ${id}${e}data: ${JSON.stringify({ jsonrpc: '2.0', id: i, result: { content: [{ type: 'text', text: ev.text }] } })}${e}${e}`;
      else raw += `: keep-alive${e}retry: 1000${e}data: ${ev.text}${e}${e}`;
      secrets.push(...ev.secrets);
    });
    return { raw, secrets };
  });

async function run(raw: string, chunks: Buffer[] | undefined, mode: 'redact' | 'block' = 'redact'): Promise<string> {
  const buf = Buffer.from(raw, 'utf8');
  const r = await runTransform(createDlpTransform({ redactor, mode }), SSE, chunks ?? [buf]);
  assert.equal(r.error, undefined);
  return Buffer.concat(r.out).toString('utf8');
}

function events(text: string): string[] {
  const s = new SseSplitter();
  return [...s.push(text), s.rest()].filter((e) => e !== '');
}

test('property: SSE (and JSON in SSE) redaction is the same for every chunking; framing kept; JSON valid; no secret left', async () => {
  await fc.assert(
    fc.asyncProperty(sseStream, fc.oneof(fc.constant<'bytes'>('bytes'), fc.array(fc.nat(5000), { maxLength: 30 })), async ({ raw, secrets }, cuts) => {
      const whole = await run(raw, undefined);
      const split = await run(raw, chunk(Buffer.from(raw, 'utf8'), cuts));
      assert.equal(split, whole);
      for (const s of secrets) assert.ok(!whole.includes(s), `secret left: ${s}`);
      const before = events(raw);
      const after = events(whole);
      assert.equal(after.length, before.length);
      before.forEach((ev, i) => {
        const a = parseEventLines(after[i]!);
        const b = parseEventLines(ev);
        // Every non-data line, and every line ending, byte for byte.
        assert.deepEqual(a.filter((l) => l.field !== 'data').map((l) => l.raw + l.eol), b.filter((l) => l.field !== 'data').map((l) => l.raw + l.eol));
        const data = eventData(a)!;
        if (data.startsWith('{')) assert.doesNotThrow(() => JSON.parse(data), data);
        if (ev.startsWith('event: endpoint')) assert.equal(after[i], ev);
      });
    }),
    { numRuns: 40 },
  );
});

test('server-everything shapes: a Streamable HTTP event is redacted in place; the legacy endpoint event passes untouched', async () => {
  const endpoint = 'event: endpoint\ndata: /message?sessionId=6a1c2b3d-0000-4000-8000-123456789abc\n\n';
  const msg = `event: message\ndata: {"result":{"content":[{"type":"text","text":"Echo: key AKIAIOSFODNN7ABCDEFG and me@corp.example.org"}]},"jsonrpc":"2.0","id":2}\n\n`;
  const out = await run(endpoint + msg, undefined);
  assert.equal(
    out,
    `${endpoint}event: message\ndata: {"result":{"content":[{"type":"text","text":"Echo: key [REDACTED:aws-access-key-id] and [REDACTED:email]"}]},"jsonrpc":"2.0","id":2}\n\n`,
  );
});

test('block mode: the offending event becomes a JSON-RPC error with the same id; other events and framing stay', async () => {
  const ok = 'event: message\nid: 1\ndata: {"jsonrpc":"2.0","id":1,"result":{"content":[]}}\n\n';
  const bad = 'event: message\nid: 2\ndata: {"jsonrpc":"2.0","id":"req-9","result":{"content":[{"type":"text","text":"ghp_0123456789abcdefghijABCDEFGHIJ012345"}]}}\n\n';
  const out = await run(ok + bad + ok, undefined, 'block');
  const evs = events(out);
  assert.equal(evs[0], ok);
  assert.equal(evs[2], ok);
  const lines = parseEventLines(evs[1]!);
  assert.deepEqual(lines.slice(0, 2).map((l) => l.raw), ['event: message', 'id: 2']);
  const err = JSON.parse(eventData(lines)!) as { id: unknown; error: { code: number; data: { code: string; rules: string[] } }; result?: unknown };
  assert.equal(err.id, 'req-9');
  assert.equal(err.error.code, -32603, 'not -32001: the MCP SDK reads that as a request timeout');
  assert.deepEqual(err.error.data, { code: 'ERR_DLP_BLOCKED', rules: ['github-pat'] });
  assert.equal(err.result, undefined);
  assert.ok(!out.includes('ghp_'));
});

test('an SSE event larger than the cap ends the stream with an error, never flushing it', async () => {
  const t = createDlpTransform({ redactor, mode: 'redact', maxEventBytes: 1000 });
  const r = await runTransform(t, SSE, [Buffer.from('data: ok\n\n'), Buffer.from(`data: ${'x'.repeat(2000)}`)]);
  assert.equal((r.error as { code?: string } | undefined)?.code, 'ERR_DLP_BLOCKED');
  assert.equal(Buffer.concat(r.out).toString(), 'data: ok\n\n');
});
