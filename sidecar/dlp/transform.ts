/**
 * The DLP response stage: createDlpTransform(opts) returns a ResponseStage that, given the
 * upstream's head, redacts its header values, picks how to read the body and returns a
 * BodyRewriter (streamed or whole, the same bytes either way) or a Reply when the body cannot be
 * scanned safely.
 *
 * - By Content-Type: `text/event-stream` is redacted per event (sse.ts); JSON (`application/json`,
 *   `+json`) in JSON mode so it stays valid; everything else, binary included, as bytes (latin1).
 *   Binary is scanned, not passed: a replacement may corrupt a binary format, which is the lesser
 *   harm next to leaking a key from a PDF or a tarball.
 * - Content-Encoding: gzip, x-gzip, deflate and br are decoded with a cap on the decoded size and
 *   sent on as identity (Content-Encoding dropped); over the cap the stream fails. Any other
 *   coding, or several, is refused with a 502 Reply: never passed unscanned.
 * - ETag and Content-MD5 describe the upstream's bytes, which redaction changes: they are removed
 *   (RFC 9110 8.8.3). Content-Length is framing, which the relay owns (edge/relay.ts drops it for
 *   any rewritten body and sets its own on a whole one).
 * - An error mid-stream destroys the stream: what is held back (unscanned) is never flushed.
 * - Block mode: SSE events are replaced one by one; other bodies are held whole (up to the cap)
 *   and replaced by a JSON-RPC error (JSON) or a short text when a rule matches.
 * - The answer to a JSON-RPC request (a body the message stage read, mcp/stage.ts) and a GET event
 *   stream carry JSON-RPC messages: their protocol-opaque fields (ids, requestState, cursors,
 *   progress tokens; mcp/opaque-fields.ts) are never altered. Other JSON is content throughout.
 */
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import type { BodyRewriter, Reply, RequestContext, ResponseStage, UpstreamResponseHead } from '../context.ts';
import { ERR, WardenError } from '../errors.ts';
import { blockedRpcError, blockedText } from './block.ts';
import type { JsonOptions, Redactor } from './redactor.ts';
import { StringSink, type Sink, type TextPipe } from './scanner.ts';
import { createSsePipe } from './sse.ts';

/** Default cap on a decoded (decompressed) body, and on what block mode holds: 32 MiB. */
export const DEFAULT_MAX_DECODED_BYTES = 32 * 1024 * 1024;
/** Default cap on one SSE event: 16 MiB. */
export const DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024;

export interface DlpTransformOptions {
  readonly redactor: Redactor;
  readonly mode: 'redact' | 'block';
  /** Called once per redaction with the rule's name (never the secret). */
  readonly onMatch?: (rule: string) => void;
  readonly maxDecodedBytes?: number;
  readonly maxEventBytes?: number;
}

const NO_CODINGS: readonly string[] = [];
/** Headers that describe the upstream's bytes, which redaction may change (Content-Length: the relay's). */
const REWRITTEN_AWAY = ['etag', 'content-md5'] as const;
/** How one content coding is decoded: a whole body (its output capped), or as a stream. */
interface Coding {
  readonly sync: (body: Buffer, opts: { maxOutputLength: number }) => Buffer;
  readonly stream: () => zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress;
}
const GZIP: Coding = { sync: (b, o) => zlib.gunzipSync(b, o), stream: () => zlib.createGunzip() };
// A Map, not an object literal: a coding named `constructor` or `__proto__` must be unknown.
const CODINGS: ReadonlyMap<string, Coding> = new Map([
  ['gzip', GZIP],
  ['x-gzip', GZIP],
  ['deflate', { sync: (b, o) => zlib.inflateSync(b, o), stream: () => zlib.createInflate() }],
  ['br', { sync: (b, o) => zlib.brotliDecompressSync(b, o), stream: () => zlib.createBrotliDecompress() }],
]);

function header(head: UpstreamResponseHead, name: string): string | undefined {
  const v = head.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Response headers DLP leaves alone: framing and protocol-opaque values (see the README, "DLP"). */
const UNSCANNED_RESPONSE_HEADERS: ReadonlySet<string> = new Set(['content-type', 'content-length', 'content-encoding', 'transfer-encoding', 'date', 'last-modified', 'etag', 'mcp-session-id', 'mcp-protocol-version']);

/**
 * Redact secrets in response header values (a `Location` with a key in its query, a custom header
 * carrying a token), as plain text. Returns the rules that matched; the values are changed in place.
 */
function redactResponseHeaders(headers: Record<string, string | string[]>, redactor: Redactor, onMatch: (rule: string) => void): string[] {
  const matches: string[] = [];
  const hit = (rule: string): void => {
    matches.push(rule);
    onMatch(rule);
  };
  for (const name in headers) {
    const value = headers[name];
    if (UNSCANNED_RESPONSE_HEADERS.has(name)) continue;
    if (typeof value === 'string') {
      if (redactor.mayMatch(value, false)) headers[name] = redactor.redactLatin1(value, false, hit).text;
    } else if (Array.isArray(value)) {
      headers[name] = value.map((v) => (redactor.mayMatch(v, false) ? redactor.redactLatin1(v, false, hit).text : v));
    }
  }
  return matches;
}

export function createDlpTransform(opts: DlpTransformOptions): ResponseStage {
  const { redactor, mode } = opts;
  const onMatch = opts.onMatch ?? (() => {});
  const maxDecoded = opts.maxDecodedBytes ?? DEFAULT_MAX_DECODED_BYTES;
  const maxEvent = opts.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  return (head: UpstreamResponseHead, ctx: RequestContext | undefined): BodyRewriter | Reply => {
    const encoding = header(head, 'content-encoding');
    const codings = encoding === undefined ? NO_CODINGS : encoding.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
    const coding = codings.length === 1 ? CODINGS.get(codings[0]!) : undefined;
    if (codings.length > 1 || (codings.length === 1 && !coding)) {
      return { status: 502, code: ERR.DLP_BLOCKED, body: { error: 'Bad Gateway', message: `The upstream response uses Content-Encoding "${codings.join(', ')}", which the DLP stage cannot scan` } };
    }
    const inHeaders = redactResponseHeaders(head.headers, redactor, onMatch);
    if (inHeaders.length > 0 && mode === 'block') {
      return { status: 502, code: ERR.DLP_BLOCKED, body: { error: 'Bad Gateway', message: `Response blocked by DLP rule(s) in its headers: ${[...new Set(inHeaders)].join(', ')}` } };
    }
    for (const h of REWRITTEN_AWAY) delete head.headers[h];
    if (coding) delete head.headers['content-encoding'];
    const kind = head.kind;
    const json = { jsonRpc: carriesJsonRpc(ctx, kind) };
    const pipe = (): TextPipe => {
      if (kind === 'sse') return createSsePipe(redactor, mode, onMatch, maxEvent, json);
      if (mode === 'block') return holdWhole(redactor, kind === 'json', onMatch, maxDecoded, json);
      return redactor.stream(kind === 'json', onMatch, json);
    };
    return {
      stream: () => new DlpStream(pipe(), coding, maxDecoded),
      whole: (body) => {
        const decoded = coding && body.length > 0 ? decodeWhole(coding, body, maxDecoded) : body;
        const text = decoded.toString('latin1');
        // No rule can match (Redactor.mayMatch is exact): the scanner would pass the bytes as
        // they are, so they pass without one. This is the common case of a small JSON answer.
        if (kind !== 'sse' && !redactor.mayMatch(text, kind === 'json')) return decoded;
        const sink = new StringSink();
        const p = pipe();
        p.push(text, sink);
        p.end(sink);
        return sink.replaced ? Buffer.from(sink.out, 'latin1') : decoded;
      },
    };
  };
}

/** Whether the response carries JSON-RPC messages: the answer to a JSON-RPC body, or a GET event stream. */
function carriesJsonRpc(ctx: RequestContext | undefined, kind: string): boolean {
  if (ctx === undefined || ctx.exempt) return false;
  return ctx.message?.ok === true || (ctx.method === 'GET' && kind === 'sse');
}

/** Decode a whole compressed body within the cap, as DlpStream does chunk by chunk. */
function decodeWhole(coding: Coding, body: Buffer, cap: number): Buffer {
  try {
    return coding.sync(body, { maxOutputLength: cap });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new WardenError(ERR.DLP_BLOCKED, 502, `Decoded response larger than ${cap} bytes`);
    throw new WardenError(ERR.DLP_BLOCKED, 502, `Cannot decode the upstream response: ${(err as Error).message}`);
  }
}

/** Block mode for non-SSE bodies: hold the body (up to the cap), then pass it or replace it. */
function holdWhole(redactor: Redactor, json: boolean, onMatch: (rule: string) => void, cap: number, opts: JsonOptions): TextPipe {
  let held = '';
  return {
    push(text: string): void {
      held += text;
      if (held.length > cap) throw new WardenError(ERR.DLP_BLOCKED, 502, `Response larger than ${cap} bytes: cannot be held for DLP block mode`);
    },
    end(sink: Sink): void {
      const r = redactor.redactLatin1(held, json, onMatch, opts);
      if (r.matches.length === 0) return sink.copy(held);
      const body = json ? blockedRpcError(Buffer.from(held, 'latin1').toString('utf8'), r.matches) : blockedText(r.matches);
      sink.replace(held.length, Buffer.from(body, 'utf8').toString('latin1'));
    },
  };
}

/**
 * The byte side: input bytes wait in a queue until the pipe says what becomes of them. Text passed
 * through unchanged leaves as the original bytes (subarrays, no re-encoding); a replacement drops
 * the bytes it stands for and sends its own.
 */
class DlpStream extends Transform implements Sink {
  readonly #pipe: TextPipe;
  readonly #cap: number;
  readonly #dec: zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | undefined;
  readonly #queue: Buffer[] = [];
  #queueHead = 0;
  #pendingCopy = 0;
  #sawInput = false;
  #decoded = 0;
  #failed = false;

  constructor(pipe: TextPipe, coding: Coding | undefined, cap: number) {
    super();
    this.#pipe = pipe;
    this.#cap = cap;
    if (coding) {
      const dec = coding.stream();
      dec.on('data', (b: Buffer) => this.#feed(b, true));
      dec.on('error', (err) => this.#fail(new WardenError(ERR.DLP_BLOCKED, 502, `Cannot decode the upstream response: ${err.message}`)));
      this.#dec = dec;
    }
  }

  copy(text: string): void {
    // Coalesced: contiguous copies leave as one subarray per input buffer (see #flushCopy).
    this.#pendingCopy += text.length;
  }

  replace(consumed: number, text: string): void {
    this.#flushCopy();
    let n = consumed;
    while (n > 0) {
      const take = Math.min(n, this.#queue[0]!.length - this.#queueHead);
      this.#drop(take);
      n -= take;
    }
    if (text !== '') this.push(Buffer.from(text, 'latin1'));
  }

  #flushCopy(): void {
    let n = this.#pendingCopy;
    this.#pendingCopy = 0;
    while (n > 0) {
      const b = this.#queue[0]!;
      const take = Math.min(n, b.length - this.#queueHead);
      this.push(b.subarray(this.#queueHead, this.#queueHead + take));
      this.#drop(take);
      n -= take;
    }
  }

  #drop(n: number): void {
    this.#queueHead += n;
    if (this.#queueHead === this.#queue[0]!.length) {
      this.#queue.shift();
      this.#queueHead = 0;
    }
  }

  #fail(err: Error): void {
    if (this.#failed) return;
    this.#failed = true;
    this.destroy(err);
  }

  #feed(b: Buffer, decoded: boolean): void {
    if (this.#failed || b.length === 0) return;
    if (decoded) {
      this.#decoded += b.length;
      if (this.#decoded > this.#cap) {
        this.#fail(new WardenError(ERR.DLP_BLOCKED, 502, `Decoded response larger than ${this.#cap} bytes`));
        return;
      }
    }
    this.#queue.push(b);
    try {
      this.#pipe.push(b.toString('latin1'), this);
      this.#flushCopy();
    } catch (err) {
      this.#fail(err as Error);
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (chunk.length === 0) return cb();
    this.#sawInput = true;
    if (this.#dec) {
      this.#dec.write(chunk, () => cb());
      return;
    }
    this.#feed(chunk, false);
    cb();
  }

  override _flush(cb: TransformCallback): void {
    const finish = (): void => {
      if (this.#failed) return;
      try {
        this.#pipe.end(this);
        this.#flushCopy();
        cb();
      } catch (err) {
        this.#failed = true;
        cb(err as Error);
      }
    };
    // No body at all (HEAD, 204, 304 with a Content-Encoding header): nothing to decode.
    if (!this.#dec || !this.#sawInput) return finish();
    this.#dec.once('end', finish);
    this.#dec.end();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.#dec?.destroy();
    cb(err);
  }
}
