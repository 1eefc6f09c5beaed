/**
 * When request DLP rewrites a body (a secret in a tool argument or a resource URI becomes
 * `[REDACTED:rule]`), the headers that mirror the body must say what the new body says: else the
 * secret still reaches the server in the header, and the server refuses the call because header and
 * body disagree (HeaderMismatch). Given the body before and after, this computes the new values:
 *
 * - `MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`: from the new body's `_meta` version, method,
 *   and `params.name` / `params.uri` (Base64 sentinel when the value needs it);
 * - `Mcp-Param-*`: the header was checked to equal one or more arguments of the old body; it takes
 *   the new value of those same arguments. When they now differ from one another (the same text
 *   redacted differently in two places) the header cannot be made consistent, and the request is
 *   refused rather than sent with a header the server would reject or a secret the body no longer has.
 *
 * Only headers the request carried are rewritten. Pure.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { PROTOCOL_VERSION_META_KEY, isObject, metaOf, nameSourceOf, type McpMessage } from './message.ts';
import {
  METHOD_HEADER,
  NAME_HEADER,
  PARAM_PREFIX,
  VERSION_HEADER,
  argumentLeaves,
  argumentsOf,
  decodeMirrored,
  encodeMirrored,
  headerForm,
  mirroredHeaders,
  mirrors,
} from './mirrored-headers.ts';

/** New values for mirrored headers (lower-case names), or why they cannot follow the new body. */
export type Remirrored = { readonly ok: true; readonly set: Readonly<Record<string, string>> } | { readonly ok: false; readonly header: string; readonly reason: string };

function valueAt(root: unknown, path: readonly string[]): unknown {
  let v = root;
  for (const k of path) {
    if (!isObject(v) || !Object.hasOwn(v, k)) return undefined;
    v = v[k];
  }
  return v;
}

export function remirror(before: McpMessage, after: McpMessage, headers: IncomingHttpHeaders): Remirrored {
  const set: Record<string, string> = {};
  const fail = (header: string, reason: string): Remirrored => ({ ok: false, header, reason });
  for (const [name, value] of mirroredHeaders(headers)) {
    if (name === VERSION_HEADER) {
      const meta = metaOf(after.doc);
      const claim = meta?.[PROTOCOL_VERSION_META_KEY];
      if (typeof claim === 'string' && claim !== value) set[name] = claim;
    } else if (name === METHOD_HEADER) {
      const method = after.calls[0]?.method;
      if (method !== undefined && method !== value) set[name] = method;
    } else if (name === NAME_HEADER) {
      const source = nameSourceOf(after.doc);
      if (typeof source?.value !== 'string') return fail(name, 'the rewritten body has no name to mirror');
      if (source.value !== decodeMirrored(value)) set[name] = encodeMirrored(source.value);
    } else if (name.startsWith(PARAM_PREFIX)) {
      const decoded = decodeMirrored(value);
      if (decoded === undefined) return fail(name, 'the header is not a valid =?base64?...?= value');
      const mirrored = argumentLeaves(argumentsOf(before.doc)).filter((l) => mirrors(decoded, l.value));
      const newArgs = argumentsOf(after.doc);
      const now = mirrored.map((l) => valueAt(newArgs, l.path));
      if (now.every((v, i) => v === mirrored[i]!.value)) continue;
      const forms = new Set(now.map(headerForm));
      if (forms.size !== 1 || forms.has(undefined)) return fail(name, 'the arguments it mirrors were redacted differently');
      set[name] = encodeMirrored([...forms][0]!);
    }
  }
  return { ok: true, set };
}
