/**
 * The 2026-07-28 revision mirrors routing fields of the body into headers (streamable-http,
 * "Request Metadata") so intermediaries can route without parsing the body: `MCP-Protocol-Version`
 * (the `_meta` version), `Mcp-Method` (`method`), `Mcp-Name` (`params.name` or `params.uri`), and
 * `Mcp-Param-{Name}` (a tool argument the tool's schema marks with `x-mcp-header`). A header that
 * says one thing while the body says another is how a router, a rate limit or a policy reads one
 * source while the server executes another, so "servers that process the request body MUST reject
 * requests where the values specified in the headers do not match", and intermediaries MUST answer
 * such failures with an HTTP error. The sidecar reads the body, so it checks, before any stage reads
 * a method or a name:
 *
 * - every mirrored header is visible ASCII (a `Mcp-Name` or `Mcp-Param-*` value outside it must use
 *   the Base64 sentinel `=?base64?...?=`, which is decoded, canonical Base64 of UTF-8, before it is
 *   compared);
 * - `MCP-Protocol-Version` equals the `_meta` version whenever the body claims one;
 * - a modern request carries `MCP-Protocol-Version` and `Mcp-Method`, and `Mcp-Name` for
 *   `tools/call`, `prompts/get` and `resources/read` (and for the tasks methods when they name a
 *   task); a modern request under a modern version header must carry the `_meta` claim;
 * - a mirrored header that is present, in either era, equals its body value; `Mcp-Name` on a method
 *   that has no name, and any header on a batch or a posted response, have no body value to equal;
 * - each `Mcp-Param-*` header is on a `tools/call` and decodes to the value of one of its arguments
 *   (a primitive reachable through object properties only, integers compared numerically). The
 *   sidecar does not hold the tools' schemas, so it cannot tell which argument a header mirrors or
 *   that one is missing; the server, which has the schema, checks that. No header can carry a value
 *   the body does not have, so nothing reaches the server in a header that policy and DLP did not
 *   see in the body.
 *
 * Notifications only need their present headers to agree (the revision defines no required headers
 * for them, and the SDK sends none but the version). Pure.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { NAME_REQUIRED, PROTOCOL_VERSION_META_KEY, isObject, metaOf, nameSourceOf, type McpMessage } from './message.ts';

export const VERSION_HEADER = 'mcp-protocol-version';
export const METHOD_HEADER = 'mcp-method';
export const NAME_HEADER = 'mcp-name';
export const PARAM_PREFIX = 'mcp-param-';

/** Why the headers and the body disagree: which header, and a sentence for the client. */
export interface HeaderMismatch {
  /** Lower-case header name. */
  readonly header: string;
  readonly reason: string;
}

/** RFC 9110 5.5 field values as the revision allows them unencoded: visible ASCII, space, tab. */
const SAFE_VALUE = /^[\x20-\x7e\t]*$/;
const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const CANONICAL_DECIMAL = /^-?\d+(\.\d+)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The value a `Mcp-Name` or `Mcp-Param-*` header stands for, or undefined for a broken sentinel. */
export function decodeMirrored(value: string): string | undefined {
  if (!(value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX) && value.length >= SENTINEL_PREFIX.length + SENTINEL_SUFFIX.length)) return value;
  const b64 = value.slice(SENTINEL_PREFIX.length, value.length - SENTINEL_SUFFIX.length);
  if (!CANONICAL_BASE64.test(b64)) return undefined;
  try {
    return utf8.decode(Buffer.from(b64, 'base64'));
  } catch {
    return undefined;
  }
}

/** A value as a client must write it into a header: plain when it is safe, else the Base64 sentinel. */
export function encodeMirrored(value: string): string {
  const plain = SAFE_VALUE.test(value) && value.trim() === value && !(value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX));
  return plain ? value : `${SENTINEL_PREFIX}${Buffer.from(value, 'utf8').toString('base64')}${SENTINEL_SUFFIX}`;
}

/** A primitive argument in its header form (streamable-http, "Value Encoding": type conversion). */
export function headerForm(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** Whether a decoded header value stands for this argument value (integers compared as numbers). */
export function mirrors(decoded: string, v: unknown): boolean {
  if (typeof v === 'number' && CANONICAL_DECIMAL.test(decoded)) return Number(decoded) === v;
  return headerForm(v) === decoded;
}

/** Deeper than this, arguments are not searched (x-mcp-header paths are a few properties long). */
const MAX_PATH_DEPTH = 32;

/**
 * Every primitive argument a `Mcp-Param-*` header may mirror: reachable from `arguments` through
 * object properties only (the revision forbids `items` and composition keywords on the path).
 */
export function argumentLeaves(args: unknown): { readonly path: readonly string[]; readonly value: unknown }[] {
  const out: { path: readonly string[]; value: unknown }[] = [];
  const walk = (v: unknown, path: string[]): void => {
    if (isObject(v)) {
      if (path.length >= MAX_PATH_DEPTH) return;
      for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
    } else if (path.length > 0 && headerForm(v) !== undefined) out.push({ path, value: v });
  };
  walk(args, []);
  return out;
}

/** `params.arguments` of a tools/call message. */
export function argumentsOf(doc: unknown): unknown {
  const params = isObject(doc) ? doc.params : undefined;
  return isObject(params) ? params.arguments : undefined;
}

/** Whether a lower-case header name is one that mirrors the body. */
export const isMirroredHeader = (name: string): boolean => name === VERSION_HEADER || name === METHOD_HEADER || name === NAME_HEADER || name.startsWith(PARAM_PREFIX);

/** The mirrored headers a request carries (lower-case names), values as Node joined them. */
export function mirroredHeaders(headers: IncomingHttpHeaders): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    if (isMirroredHeader(name)) out.push([name, Array.isArray(v) ? v.join(', ') : v]);
  }
  return out;
}

const show = (s: string): string => JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}...` : s);
/** A lower-case mirrored header name as the revision spells it, for messages. */
export const headerLabel = (name: string): string =>
  name === VERSION_HEADER ? 'MCP-Protocol-Version' : name.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());

/** Check the mirrored headers against the body; the first disagreement, or undefined when they agree. */
export function checkMirroredHeaders(m: McpMessage, headers: IncomingHttpHeaders): HeaderMismatch | undefined {
  const present = mirroredHeaders(headers);
  const bad = (header: string, reason: string): HeaderMismatch => ({ header, reason: `${headerLabel(header)}: ${reason}` });
  for (const [name, value] of present) {
    if (!SAFE_VALUE.test(value)) return bad(name, 'the value has characters outside visible ASCII; non-ASCII values are sent as =?base64?...?=');
  }
  const get = (name: string): string | undefined => present.find(([n]) => n === name)?.[1];
  const single = !Array.isArray(m.doc) && m.calls.length === 1 && m.calls[0]!.kind !== 'response' ? m.calls[0]! : undefined;
  if (single === undefined) {
    // A batch (legacy only) or a posted response has no one method or name a header could mirror.
    const [name] = present.find(([n]) => n !== VERSION_HEADER) ?? [];
    if (name !== undefined) return bad(name, `a ${Array.isArray(m.doc) ? 'batch' : 'JSON-RPC response'} has no single value to mirror`);
    return undefined;
  }
  const doc = m.doc as Record<string, unknown>;
  const request = single.kind === 'request';
  const modernRequest = m.era === 'modern' && request;

  const version = get(VERSION_HEADER);
  const meta = metaOf(doc);
  const claimed = meta !== undefined && PROTOCOL_VERSION_META_KEY in meta;
  const claim = claimed ? meta[PROTOCOL_VERSION_META_KEY] : undefined;
  if (claimed && version !== undefined && version !== claim) {
    return bad(VERSION_HEADER, `${show(version)} does not match the body's _meta protocol version ${typeof claim === 'string' ? show(claim) : '(not a string)'}`);
  }
  if (modernRequest && !claimed) return bad(VERSION_HEADER, `${show(version ?? '')} names a 2026-07-28+ revision, but the body's params._meta carries no ${PROTOCOL_VERSION_META_KEY}`);
  if (modernRequest && version === undefined) return bad(VERSION_HEADER, 'required on every 2026-07-28 request, and missing');

  const method = get(METHOD_HEADER);
  if (method !== undefined && method !== single.method) return bad(METHOD_HEADER, `${show(method)} does not match the body's method ${show(single.method)}`);
  if (modernRequest && method === undefined) return bad(METHOD_HEADER, `required on every 2026-07-28 request, and missing (the body's method is ${show(single.method)})`);

  const source = nameSourceOf(doc);
  const name = get(NAME_HEADER);
  if (name !== undefined) {
    const decoded = decodeMirrored(name);
    if (decoded === undefined) return bad(NAME_HEADER, `${show(name)} is not a valid =?base64?...?= value (canonical Base64 of UTF-8)`);
    if (source === undefined) return bad(NAME_HEADER, `method ${show(single.method)} has no name or URI to mirror`);
    if (typeof source.value !== 'string') return bad(NAME_HEADER, `${show(decoded)} is sent, but the body has no params.${source.field} string`);
    if (decoded !== source.value) return bad(NAME_HEADER, `${show(decoded)} does not match the body's params.${source.field} ${show(source.value)}`);
  } else if (modernRequest && source !== undefined && (NAME_REQUIRED.has(single.method) || typeof source.value === 'string')) {
    return bad(NAME_HEADER, `required on a 2026-07-28 ${single.method} request, and missing`);
  }

  let leaves: ReturnType<typeof argumentLeaves> | undefined;
  for (const [header, value] of present) {
    if (!header.startsWith(PARAM_PREFIX)) continue;
    if (single.method !== 'tools/call') return bad(header, `only a tools/call carries Mcp-Param headers, not ${show(single.method)}`);
    // Argument values are often secrets: the reason never repeats them.
    const decoded = decodeMirrored(value);
    if (decoded === undefined) return bad(header, 'the value is not a valid =?base64?...?= value (canonical Base64 of UTF-8)');
    leaves ??= argumentLeaves(argumentsOf(doc));
    if (!leaves.some((l) => mirrors(decoded, l.value))) return bad(header, 'its value is not the value of any argument of the call');
  }
  return undefined;
}
