/**
 * The one view of a JSON-RPC POST body that every stage after the body reads (tool policy, request
 * DLP, the per-tool limit, the stream cap, audit): parsed once (policy/jsonrpc.ts), its protocol era
 * decided (era.ts) and, for the 2026-07-28 revision, its mirrored headers checked against it
 * (mirrored-headers.ts). No stage parses the body again or reads a method or a name from a header,
 * so policy can never judge one source while the MCP server executes another.
 *
 * Protocol eras (MCP 2026-07-28, basic/versioning): `legacy` is 2025-11-25 and earlier (an
 * `initialize` handshake, sessions, batches); `modern` is 2026-07-28 and later, where every request
 * carries its protocol version in `params._meta` and mirrors routing fields into headers.
 */
/** The view's types live with the other shared types (context.ts), so stages need no import of mcp/. */
export type { Era, McpMessage, MessageRead } from '../context.ts';

/** The `_meta` key that carries a modern request's protocol version (basic/index, `_meta`). */
export const PROTOCOL_VERSION_META_KEY = 'io.modelcontextprotocol/protocolVersion';

/** The first modern revision. Revisions are ISO dates, so string order is chronological. */
const FIRST_MODERN_VERSION = '2026-07-28';

/** Whether a protocol revision belongs to the modern era (the same test the MCP SDK makes). */
export const isModernVersion = (v: string): boolean => v >= FIRST_MODERN_VERSION;

/**
 * The methods whose body field the `Mcp-Name` header mirrors (streamable-http, "Standard Request
 * Headers"; the `tasks/*` rows come from the tasks extension's HTTP binding, as the MCP SDK has them).
 */
const NAME_SOURCE: Readonly<Record<string, 'name' | 'uri' | 'taskId'>> = Object.freeze({
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'tasks/get': 'taskId',
  'tasks/update': 'taskId',
  'tasks/cancel': 'taskId',
});

/** The core methods a modern request may never send without `Mcp-Name` (the spec's "Required For"). */
export const NAME_REQUIRED: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

export const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `params._meta` of a message, when it is an object. */
export function metaOf(m: unknown): Record<string, unknown> | undefined {
  const params = isObject(m) ? m.params : undefined;
  const meta = isObject(params) ? params._meta : undefined;
  return isObject(meta) ? meta : undefined;
}

/** The body value the `Mcp-Name` header mirrors for this message, if its method has one. */
export function nameSourceOf(m: unknown): { readonly field: 'name' | 'uri' | 'taskId'; readonly value: unknown } | undefined {
  if (!isObject(m) || typeof m.method !== 'string' || !Object.hasOwn(NAME_SOURCE, m.method)) return undefined;
  const field = NAME_SOURCE[m.method]!;
  const params = m.params;
  return { field, value: isObject(params) ? params[field] : undefined };
}
