/**
 * Read the JSON-RPC messages of an MCP POST body (JSON-RPC 2.0, https://www.jsonrpc.org/specification),
 * single or batched, so the tool policy sees exactly what the upstream will see.
 *
 * The parser is strict where a lax one could be bypassed: the body must be `application/json` in
 * UTF-8 (a tool call smuggled in a `text/plain` body, or in UTF-16 that the upstream decodes by its
 * `charset`, never slips past policy), and every message of a batch must be well formed or the whole
 * body is refused. Both rules match what the MCP SDK's server transports accept, so no working
 * client is turned away.
 */
import { RPC_ERROR, rpcError } from '../jsonrpc-error.ts';
import { mediaType } from '../proxy/media-type.ts';
import { createHash } from 'node:crypto';
import type { ParsedCall, Reply, RpcCall } from '../context.ts';
import { ERR, type ErrorCode } from '../errors.ts';
import { canonicalJson } from './canonical-json.ts';

/** The MCP SDK's server transports refuse larger batches (MAX_BATCH_SIZE = 100); so does the sidecar. */
export const MAX_BATCH = 100;

export type { ParsedCall };

/**
 * The messages of a body and the parsed document (so no later stage parses it again), or the Reply
 * that refuses it (the edge writes it as JSON).
 */
export type ParseResult = { readonly ok: true; readonly calls: ParsedCall[]; readonly doc: unknown } | { readonly ok: false; readonly reply: Reply };

/** A JSON-RPC error object in an HTTP reply. */
export function rpcErrorReply(status: number, code: ErrorCode, rpcCode: number, message: string, id: RpcCall['id'] = null): Reply {
  return { status, code, body: rpcError(id, rpcCode, message, code) };
}

const isId = (v: unknown): v is string | number | null => typeof v === 'string' || v === null || (typeof v === 'number' && Number.isFinite(v));
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** One message, or a reason it is not a valid JSON-RPC 2.0 message (section 4 and 5). */
function readMessage(m: unknown, batch: boolean): ParsedCall | string {
  if (!isObject(m)) return 'a message is not an object';
  if (m.jsonrpc !== '2.0') return 'jsonrpc must be "2.0"';
  if ('id' in m && !isId(m.id)) return 'id must be a string, a number or null';
  const id = m.id as RpcCall['id'];
  if (!('method' in m)) {
    if (('result' in m) === ('error' in m)) return 'a message needs a method, or exactly one of result and error';
    if (!('id' in m)) return 'a response needs an id';
    return { kind: 'response', batch, id, method: '' };
  }
  if (typeof m.method !== 'string' || m.method === '') return 'method must be a non-empty string';
  if ('params' in m && m.params !== undefined && typeof m.params !== 'object') return 'params must be an object or an array';
  const kind = 'id' in m ? 'request' : 'notification';
  if (m.method !== 'tools/call') return { kind, batch, id, method: m.method };
  // A tools/call without a string name is passed on with tool undefined: the stage refuses it.
  const params = isObject(m.params) ? m.params : {};
  const tool = typeof params.name === 'string' ? params.name : undefined;
  const args = canonicalJson(params.arguments ?? {});
  if (args === undefined) return { kind, batch, id, method: m.method, tool };
  const bytes = Buffer.from(args, 'utf8');
  return { kind, batch, id, method: m.method, tool, argsSha256: createHash('sha256').update(bytes).digest('hex'), argsBytes: bytes.length };
}

/**
 * Parse an MCP POST body. `contentType` is the request's Content-Type header.
 *
 * - not `application/json`, or a charset other than UTF-8: 415 (the MCP Streamable HTTP transport
 *   requires application/json; the SDK's server answers 415 too);
 * - not JSON: HTTP 400 with a JSON-RPC -32700 parse error, id null (JSON-RPC 2.0 section 5.1);
 * - JSON but not JSON-RPC (an empty batch, a batch over MAX_BATCH, any bad message): 400 with -32600.
 *
 * A leading UTF-8 BOM is skipped, as the upstream's body readers do.
 */
export function parseJsonRpc(body: Buffer, contentType: string | undefined): ParseResult {
  const mt = mediaType(contentType);
  if (mt.essence !== 'application/json' || (mt.charset !== undefined && mt.charset !== 'utf-8' && mt.charset !== 'utf8')) {
    const got = contentType === undefined ? 'none' : JSON.stringify(contentType.slice(0, 100));
    const reply = rpcErrorReply(415, ERR.BAD_REQUEST, RPC_ERROR.INVALID_REQUEST, `Unsupported Media Type: Content-Type must be application/json (UTF-8); got ${got}`);
    // A non-JSON body may have been streamed rather than read: the connection cannot be reused.
    return { ok: false, reply: { ...reply, close: true } };
  }
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, reply: rpcErrorReply(400, ERR.BAD_REQUEST, RPC_ERROR.PARSE_ERROR, 'Parse error: the body is not valid JSON') };
  }
  const invalid = (why: string): ParseResult => ({ ok: false, reply: rpcErrorReply(400, ERR.BAD_REQUEST, RPC_ERROR.INVALID_REQUEST, `Invalid Request: ${why}`) });
  const batch = Array.isArray(doc);
  const messages: unknown[] = Array.isArray(doc) ? doc : [doc];
  if (messages.length === 0) return invalid('an empty batch');
  if (messages.length > MAX_BATCH) return invalid(`a batch of ${messages.length} messages; at most ${MAX_BATCH} are accepted`);
  const calls: ParsedCall[] = [];
  const ids = new Set<string>();
  for (const [i, m] of messages.entries()) {
    const c = readMessage(m, batch);
    if (typeof c === 'string') return invalid(batch ? `message ${i} of the batch: ${c}` : c);
    // MCP (basic protocol, requests): an id MUST NOT be reused by the requestor. Two requests with
    // one id would also make "the response to this tools/list" ambiguous for the response filter.
    if (c.kind === 'request') {
      const key = JSON.stringify(c.id);
      if (ids.has(key)) return invalid(`message ${i} of the batch reuses the request id ${key.slice(0, 100)}`);
      ids.add(key);
    }
    calls.push(c);
  }
  return { ok: true, calls, doc };
}
