/**
 * DLP throughput: the streaming transform (default rules) on a 10 MB JSON-RPC SSE stream of realistic
 * tool results with a few secrets, against the baseline "one combined regex over the same rules"
 * (String.replace on the whole text, which is neither chunk-safe nor JSON-aware) in the same run.
 * The transform runs twice: as for a GET event stream of unknown JSON (no request context), and as
 * for the answer to an MCP POST, where it also follows each message's structure to leave its
 * protocol-opaque fields alone (mcp/opaque-fields.ts).
 *
 *   node bench/dlp.bench.ts
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createRedactor } from '../sidecar/dlp/redactor.ts';
import { DEFAULT_RULES } from '../sidecar/dlp/rules.ts';
import { createDlpTransform } from '../sidecar/dlp/transform.ts';
import { createRequestContext, upstreamResponseHead, type RequestContext } from '../sidecar/context.ts';

const TARGET = 10 * 1024 * 1024;
const CHUNK = 64 * 1024;
const DEADLINE = performance.now() + 30_000;

const WORDS = 'the of and to in is that for it with as was on be by this are or from at which they key money server tool result file line error warning request response value config user data list item status ok done'.split(' ');
let seed = 42;
const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
const sentence = (): string => Array.from({ length: 8 + rnd(12) }, () => WORDS[rnd(WORDS.length)]).join(' ');
const SECRETS = ['AKIAIOSFODNN7ABCDEFG', `ghp_${'a1B2'.repeat(9)}`, 'xoxb-1234567890-1234567890123-abcdefABCDEF', 'alice@example.com', 'Bearer abcdefghijklmnopqrstuvwxyz0123456789'];

function toolText(i: number): string {
  const lines: string[] = [];
  for (let k = 0; k < 20; k++) lines.push(k % 7 === 3 ? `  "path": "/srv/app/src/module${k}.ts", "size": ${rnd(99999)}` : sentence());
  if (i % 200 === 0) lines.push(`config: ${SECRETS[(i / 200) % SECRETS.length]}`);
  return lines.join('\n');
}

function buildStream(): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < TARGET; i++) {
    const ev = `event: message\nid: ${i}\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: i, result: { content: [{ type: 'text', text: toolText(i) }] } })}\n\n`;
    parts.push(ev);
    size += ev.length;
  }
  return parts.join('');
}

/** The context of an MCP POST whose body the message stage read: its answer carries JSON-RPC. */
function mcpPost(): RequestContext {
  const ctx = createRequestContext({ startedAt: 0, method: 'POST', headers: {}, clientIp: '127.0.0.1' });
  ctx.message = { ok: true, message: { era: 'modern', protocolVersion: '2026-07-28', calls: [], doc: {} } };
  return ctx;
}

async function runTransform(body: Buffer, ctx?: RequestContext): Promise<{ ms: number; out: number }> {
  const redactor = createRedactor({ patterns: [] });
  const t = createDlpTransform({ redactor, mode: 'redact' })(upstreamResponseHead(200, { 'content-type': 'text/event-stream' }), ctx as RequestContext);
  if (!t || 'status' in t) throw new Error('expected a body rewriter');
  const chunks: Buffer[] = [];
  for (let o = 0; o < body.length; o += CHUNK) chunks.push(body.subarray(o, o + CHUNK));
  let out = 0;
  const start = performance.now();
  await pipeline(
    Readable.from(chunks),
    t.stream(),
    new Writable({
      write(c: Buffer, _e, cb) {
        out += c.length;
        cb();
      },
    }),
  );
  return { ms: performance.now() - start, out };
}

function runCombined(body: Buffer): { ms: number; out: number } {
  const combined = new RegExp(DEFAULT_RULES.map((r) => (r.flags.includes('i') ? `(?i:${r.regex})` : `(?:${r.regex})`)).join('|'), 'g');
  const start = performance.now();
  const text = body.toString('latin1');
  const out = text.replace(combined, '[REDACTED]');
  const bytes = Buffer.from(out, 'latin1').length;
  return { ms: performance.now() - start, out: bytes };
}

const body = Buffer.from(buildStream(), 'utf8');
const mb = body.length / 1024 / 1024;
const rows: { name: string; ms: number[] }[] = [
  { name: 'combined regex (baseline, whole text)', ms: [] },
  { name: 'DLP transform (anchored, streaming SSE)', ms: [] },
  { name: 'DLP transform, JSON-RPC opaque fields kept (the answer to an MCP POST)', ms: [] },
];
for (let round = 0; round < 5 && performance.now() < DEADLINE; round++) {
  rows[0]!.ms.push(runCombined(body).ms);
  rows[1]!.ms.push((await runTransform(body)).ms);
  rows[2]!.ms.push((await runTransform(body, mcpPost())).ms);
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`\nDLP throughput on a ${mb.toFixed(1)} MB JSON-RPC SSE stream, ${DEFAULT_RULES.length} default rules, ${CHUNK / 1024} KiB chunks (median of ${rows[0]!.ms.length})\n`);
// The ratio to the baseline measured in the same rounds is the figure to compare across runs: this
// shared machine moves both MB/s columns together.
const baseline = median(rows[0]!.ms);
console.log('| scanner | median ms | MB/s | x baseline |');
console.log('|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.name} | ${median(r.ms).toFixed(0)} | ${(mb / (median(r.ms) / 1000)).toFixed(0)} | ${(baseline / median(r.ms)).toFixed(2)} |`);
