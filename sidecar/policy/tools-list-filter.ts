/**
 * The tools/list response filter: a caller sees only the tools it may call (MCP "Tools" spec:
 * `result.tools`, an array of { name, inputSchema, ... }). Calls are enforced by the stage anyway;
 * hiding the rest keeps a model from planning with tools it will be refused.
 *
 * Two modes:
 * - `ids` (a Streamable HTTP POST): rewrite only the responses whose id is one of the tools/list
 *   requests of this POST. Once every such id has been answered, the rest of the stream is passed on
 *   without looking (an SSE response may go on with notifications for a long time).
 * - shape (a GET event stream: the old SSE transport's `GET /sse`, where responses to every POST of
 *   the session arrive, or a Streamable HTTP GET that replays events after Last-Event-ID): rewrite
 *   any JSON-RPC response whose `result.tools` is an array. No MCP result other than tools/list has
 *   a `tools` member, and this needs no state shared between requests: nothing to grow, nothing to
 *   evict, nothing to race.
 *
 * A filtered list is the caller's own: a 2026-07-28 result marked `cacheScope: "public"` (shared
 * caches may serve it to anyone, SEP-2549) becomes `"private"`, else a shared cache could hand one
 * caller's view to another. `ttlMs` is kept: the caller's cached copy is as fresh as the server says.
 *
 * Bytes are kept exactly: SSE is split on latin1 text (one char per byte; the line breaks the grammar
 * splits on are ASCII), so an event that is not rewritten goes out byte for byte, even invalid UTF-8.
 * Only the `data` of a rewritten event changes; `event:`, `id:`, comments and line endings stay.
 */
import { StringDecoder } from 'node:string_decoder';
import { Transform } from 'node:stream';
import type { BodyRewriter, Identity, Reply, ResponseStage, RpcCall } from '../context.ts';
import { ERR, WardenError } from '../errors.ts';
import { SseSplitter, eventData, parseEventLines, replaceEventData } from '../stream/sse.ts';
import { RPC_ERROR, rpcError } from '../jsonrpc-error.ts';
import { decideTool, type ToolPolicy } from './tools.ts';

/** Default bound on what is held back: one SSE event, or a whole JSON response. */
export const DEFAULT_MAX_BUFFER_BYTES = 16 * 1024 * 1024;

export interface ToolsListFilterOptions {
  /** The ids of this POST's tools/list requests; omitted for shape mode (GET streams). */
  readonly ids?: readonly RpcCall['id'][];
  /** Largest event (SSE) or body (JSON) held back; above it the response is cut with an error. */
  readonly maxBufferBytes?: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const idKey = (id: unknown): string => JSON.stringify(id ?? null);

/** Matches responses and filters their tools; remembers which of the awaited ids were answered. */
class Matcher {
  readonly #keep: (name: string) => boolean;
  readonly #pending: Set<string> | undefined;
  constructor(keep: (name: string) => boolean, ids: readonly RpcCall['id'][] | undefined) {
    this.#keep = keep;
    this.#pending = ids === undefined ? undefined : new Set(ids.map(idKey));
  }

  /** In ids mode, true once every awaited response went by. */
  get done(): boolean {
    return this.#pending !== undefined && this.#pending.size === 0;
  }

  /** A rewritten copy of a parsed message (or batch of them), or undefined to leave it as it was. */
  rewrite(doc: unknown): unknown {
    if (Array.isArray(doc)) {
      let changed = false;
      const out = doc.map((m) => {
        const r = this.#one(m);
        if (r === undefined) return m;
        changed = true;
        return r;
      });
      return changed ? out : undefined;
    }
    return this.#one(doc);
  }

  #one(m: unknown): unknown {
    if (!isObject(m) || !('id' in m) || !('result' in m || 'error' in m)) return undefined;
    if (this.#pending !== undefined && !this.#pending.delete(idKey(m.id))) return undefined;
    const result = m.result;
    if (!isObject(result) || !Array.isArray(result.tools)) return undefined;
    // Anything not shaped like a tool (no string name) is dropped: it cannot be judged.
    const tools = result.tools.filter((t: unknown) => isObject(t) && typeof t.name === 'string' && this.#keep(t.name));
    const shared = result.cacheScope === 'public';
    if (tools.length === result.tools.length && !shared) return undefined;
    return { ...m, result: { ...result, ...(shared ? { cacheScope: 'private' } : {}), tools } };
  }
}

/** Whether a JSON text could be a JSON-RPC message (skip JSON.parse on `endpoint` events and pings). */
const looksJson = (s: string): boolean => /^\s*[[{]/.test(s);

/** The SSE form: events rewritten one by one as they complete. */
class SseFilter {
  readonly #matcher: Matcher;
  readonly #max: number;
  readonly #splitter = new SseSplitter();
  #passing = false;
  constructor(matcher: Matcher, max: number) {
    this.#matcher = matcher;
    this.#max = max;
  }

  #event(raw: string): Buffer {
    const original = Buffer.from(raw, 'latin1');
    if (!raw.includes('data')) return original;
    const lines = parseEventLines(original.toString('utf8'));
    const data = eventData(lines);
    if (data === undefined || !looksJson(data)) return original;
    let doc: unknown;
    try {
      doc = JSON.parse(data);
    } catch {
      return original;
    }
    const out = this.#matcher.rewrite(doc);
    return out === undefined ? original : Buffer.from(replaceEventData(lines, JSON.stringify(out)), 'utf8');
  }

  push(chunk: Buffer): Buffer {
    if (this.#passing) return chunk;
    const parts = this.#splitter.push(chunk.toString('latin1')).map((raw) => this.#event(raw));
    if (this.#matcher.done) {
      this.#passing = true;
      parts.push(Buffer.from(this.#splitter.rest(), 'latin1'));
    } else if (this.#splitter.pending > this.#max) {
      throw new WardenError(ERR.UPSTREAM_UNAVAILABLE, 502, `an SSE event over ${this.#max} bytes cannot be filtered`);
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  end(): Buffer {
    // An unterminated last event is discarded by conforming clients (WHATWG HTML 9.2.6), but a
    // lax one might dispatch it: filter it like any other.
    const rest = this.#splitter.rest();
    return rest === '' ? Buffer.alloc(0) : this.#passing ? Buffer.from(rest, 'latin1') : this.#event(rest);
  }
}

function sseRewriter(matcher: () => Matcher, max: number): BodyRewriter {
  return {
    stream() {
      const f = new SseFilter(matcher(), max);
      return new Transform({
        transform(chunk: Buffer, _enc, cb) {
          try {
            cb(null, f.push(chunk));
          } catch (err) {
            cb(err as Error);
          }
        },
        flush(cb) {
          const rest = f.end();
          cb(null, rest.length === 0 ? undefined : rest);
        },
      });
    },
    whole(body) {
      const f = new SseFilter(matcher(), max);
      const out = Buffer.concat([f.push(body), f.end()]);
      return out.equals(body) ? body : out;
    },
  };
}

/** The JSON form: the whole body is parsed, so it is held (up to the cap) either way. */
function filterJson(matcher: Matcher, ids: readonly RpcCall['id'][] | undefined, body: Buffer): Buffer {
  const decoder = new StringDecoder('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(decoder.end(body));
  } catch {
    // Fail closed: a body this parser cannot read might still be read by a laxer client
    // (NaN, comments), so the tools/list answers become errors rather than pass unfiltered.
    const errors = (ids ?? []).map((id) => rpcError(id, RPC_ERROR.INTERNAL, 'tools/list response could not be filtered', ERR.UPSTREAM_UNAVAILABLE));
    return ids === undefined ? body : Buffer.from(JSON.stringify(errors.length === 1 ? errors[0] : errors));
  }
  const out = matcher.rewrite(doc);
  return out === undefined ? body : Buffer.from(JSON.stringify(out));
}

function jsonRewriter(matcher: () => Matcher, ids: readonly RpcCall['id'][] | undefined, max: number): BodyRewriter {
  const tooLarge = (): WardenError => new WardenError(ERR.UPSTREAM_UNAVAILABLE, 502, `a JSON response over ${max} bytes cannot be filtered`);
  return {
    stream() {
      const chunks: Buffer[] = [];
      let size = 0;
      return new Transform({
        transform(chunk: Buffer, _enc, cb) {
          size += chunk.length;
          if (size > max) return cb(tooLarge());
          chunks.push(chunk);
          cb();
        },
        flush(cb) {
          cb(null, filterJson(matcher(), ids, Buffer.concat(chunks, size)));
        },
      });
    },
    whole(body) {
      if (body.length > max) throw tooLarge();
      return filterJson(matcher(), ids, body);
    },
  };
}

/**
 * A response stage that hides the tools `identity` may not call from tools/list results in
 * `application/json` and `text/event-stream` responses. Other content types pass untouched. It
 * refuses compressed bodies it cannot read (the proxy asks the upstream for `Accept-Encoding:
 * identity`). The body may shrink: the relay drops or resets Content-Length for every rewritten body.
 */
export function createToolsListFilter(policy: ToolPolicy, identity: Identity | undefined, opts: ToolsListFilterOptions = {}): ResponseStage {
  const max = opts.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`createToolsListFilter: maxBufferBytes must be a whole number >= 1; got ${max}`);
  const keep = (name: string): boolean => decideTool(policy, identity, name) === 'allow';
  return (head): BodyRewriter | Reply | undefined => {
    const kind = head.kind;
    // Shape mode reads event streams only: a GET answering JSON is not an MCP message stream, and
    // buffering it whole (it may be large) would buy nothing.
    if (kind === 'text' || (kind === 'json' && opts.ids === undefined)) return undefined;
    const enc = head.headers['content-encoding'];
    const encoding = (Array.isArray(enc) ? enc.join(',') : (enc ?? '')).trim().toLowerCase();
    if (encoding !== '' && encoding !== 'identity') {
      return { status: 502, code: ERR.UPSTREAM_UNAVAILABLE, body: { error: 'Bad Gateway', message: 'The upstream response is compressed and tools/list cannot be filtered' } };
    }
    const matcher = (): Matcher => new Matcher(keep, opts.ids);
    return kind === 'sse' ? sseRewriter(matcher, max) : jsonRewriter(matcher, opts.ids, max);
  };
}
