/** Generators of secrets shaped like each default rule, and helpers shared by the DLP tests. */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { upstreamResponseHead, type BodyRewriter, type Reply, type RequestContext, type ResponseStage } from '../../../sidecar/context.ts';
import type { Sink } from '../../../sidecar/dlp/scanner.ts';

const chars = (alphabet: string, min: number, max = min): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...alphabet.split('')), { minLength: min, maxLength: max }).map((a) => a.join(''));
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER27 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const B64URL = `${ALNUM}_-`;

/** One generator per default rule: strings the rule must redact as a whole. */
export const SECRET_ARBS: Record<string, fc.Arbitrary<string>> = {
  'private-key': chars(`${ALNUM}+/`, 64, 300).map((b) => `-----BEGIN RSA PRIVATE KEY-----\n${b.replace(/(.{64})/g, '$1\n')}\n-----END RSA PRIVATE KEY-----`),
  jwt: fc.tuple(chars(B64URL, 20, 40), chars(B64URL, 20, 60), chars(B64URL, 20, 43)).map(([h, p, s]) => `eyJ${h.replace(/[_-]/g, 'a')}.eyJ${p}.${s}`),
  'bearer-token': chars(`${ALNUM}-._~+/`, 16, 60).map((t) => `Bearer ${t}`),
  'aws-access-key-id': chars(UPPER27, 16).map((t) => `AKIA${t}`),
  'github-pat': chars(ALNUM, 36).map((t) => `ghp_${t}`),
  'github-oauth': chars(ALNUM, 36).map((t) => `gho_${t}`),
  'github-app-token': chars(ALNUM, 36).map((t) => `ghs_${t}`),
  'github-refresh-token': chars(ALNUM, 36).map((t) => `ghr_${t}`),
  'github-fine-grained-pat': chars(`${ALNUM}_`, 82).map((t) => `github_pat_${t}`),
  'slack-bot-token': fc.tuple(chars('0123456789', 10, 13), chars('0123456789', 10, 13), chars(ALNUM, 24)).map(([a, b, c]) => `xoxb-${a}-${b}-${c}`),
  'slack-user-token': fc.tuple(chars('0123456789', 10, 13), chars(ALNUM, 32)).map(([a, c]) => `xoxp-${a}-${a}-${a}-${c}`),
  'slack-app-token': fc.tuple(chars(ALNUM, 11), chars('0123456789', 13), chars('abcdef0123456789', 64)).map(([a, b, c]) => `xapp-1-${a}-${b}-${c}`),
  'slack-legacy-token': fc.tuple(chars('0123456789', 10), chars('abcdef0123456789', 32)).map(([a, c]) => `xoxs-${a}-${a}-${a}-${c}`),
  'slack-webhook-url': chars(`${ALNUM}/`, 44).map((t) => `hooks.slack.com/services/${t}`),
  'google-api-key': chars(B64URL, 35).map((t) => `AIza${t}`),
  'stripe-key': chars(ALNUM, 24, 40).map((t) => `sk_live_${t}`),
  email: fc.tuple(chars('abcdefghijklmnopqrstuvwxyz0123456789._', 1, 20), chars('abcdefghijklmnopqrstuvwxyz', 1, 12)).map(([l, d]) => `${l.replace(/^\./, 'x')}@${d}.example.com`),
};

/** Any secret, with the name of the rule it belongs to. */
export const anySecret: fc.Arbitrary<{ rule: string; secret: string }> = fc.oneof(
  ...Object.entries(SECRET_ARBS).map(([rule, arb]) => arb.map((secret) => ({ rule, secret }))),
);

/** Filler that keeps secrets apart: spaces, newlines, quotes, backslashes, multi-byte UTF-8. */
export const filler: fc.Arbitrary<string> = fc
  .array(fc.constantFrom(' ', ' ', '\n', 'word', 'é', '😀', '"', '\\', ', ', 'x', '-', '.', 'they', 'Bear', '@'), { maxLength: 12 })
  .map((a) => ` ${a.join('')} `);

/** Text seeded with secrets; returns the text and the secrets placed. */
export const seededText: fc.Arbitrary<{ text: string; secrets: string[] }> = fc
  .array(fc.tuple(filler, anySecret), { minLength: 1, maxLength: 6 })
  .map((parts) => ({ text: parts.map(([f, s]) => f + s.secret).join('') + ' end', secrets: parts.map(([, s]) => s.secret) }));

/** Cut a buffer at the given points (sorted, deduplicated); 1-byte chunks when `cuts` is 'bytes'. */
export function chunk(buf: Buffer, cuts: readonly number[] | 'bytes'): Buffer[] {
  if (cuts === 'bytes') return [...buf].map((b) => Buffer.from([b]));
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, buf.length]) {
    if (p > prev) out.push(buf.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  return out;
}

/**
 * Run a ResponseStage over chunks: returns the head after it ran, the output chunks of its streamed
 * form, or the Reply. Every run also checks the whole-body form against the streamed one: the same
 * bytes, or an error in both.
 */
export async function runTransform(
  t: ResponseStage,
  headers: Record<string, string>,
  chunks: readonly Buffer[],
  ctx?: RequestContext,
): Promise<{ reply?: Reply; out: Buffer[]; headers: Record<string, string | string[]>; error?: Error }> {
  const head = upstreamResponseHead(200, { ...headers });
  const stage = t(head, ctx as RequestContext);
  if (!stage || 'status' in stage) return { reply: stage as Reply, out: [], headers: head.headers };
  const rewriter: BodyRewriter = stage;
  let whole: Buffer | Error;
  try {
    whole = rewriter.whole(Buffer.concat(chunks));
  } catch (err) {
    whole = err as Error;
  }
  const out: Buffer[] = [];
  let error: Error | undefined;
  try {
    await pipeline(
      Readable.from(chunks),
      rewriter.stream(),
      new Writable({
        write(c: Buffer, _e, cb) {
          out.push(Buffer.from(c));
          cb();
        },
      }),
    );
  } catch (err) {
    error = err as Error;
  }
  if (error === undefined) {
    assert.ok(Buffer.isBuffer(whole), `the streamed form succeeded but whole() failed: ${(whole as Error).message}`);
    assert.ok(Buffer.concat(out).equals(whole), 'whole() gives the same bytes as the streamed form');
  } else {
    assert.ok(whole instanceof Error, `the streamed form failed (${error.message}) but whole() did not`);
  }
  return error === undefined ? { out, headers: head.headers } : { out, headers: head.headers, error };
}

/** A sink that records what leaves, and how many input chars that accounts for. */
export class CountingSink implements Sink {
  out = '';
  accounted = 0;
  copy(text: string): void {
    this.out += text;
    this.accounted += text.length;
  }
  replace(consumed: number, text: string): void {
    this.out += text;
    this.accounted += consumed;
  }
}
