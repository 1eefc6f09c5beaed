/**
 * Request-target handling: the one place that decides what path a request is for, and whether it
 * is exempt from authentication.
 *
 * Exemptions are the classic bypass (Envoy CVE-2019-9901 `..`, CVE-2021-29492 `%2F`, Istio
 * CVE-2021-31920 `//`, Apache Shiro CVE-2020-1957 `;`). The rule here is simple enough to audit:
 * a path is exempt only when the raw path, byte for byte, equals one of the configured exempt paths
 * (which config.ts has already checked are canonical). Nothing is decoded or normalised before that
 * comparison, so no encoding trick can turn a protected path into an exempt one. Independently,
 * shapes no MCP client sends and that upstreams disagree on (dot-segments, doubled slashes, encoded
 * slashes, backslashes or NUL, control bytes, fragments, absolute-form targets) are refused with 400
 * whatever the path, so the sidecar and the upstream never see two different paths.
 */

export type Target =
  | { readonly ok: true; readonly path: string; readonly search: string }
  | { readonly ok: false; readonly reason: string };

/** Bytes allowed raw in a path: RFC 3986 pchar plus '/' and '%' (escapes are checked separately). */
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;
/** Escapes that change path structure when a server decodes them: '/', '\', NUL, '.', and '%' itself. */
const DANGEROUS_ESCAPE = /%(?:2f|5c|00|2e|25)/i;
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
/**
 * A dot-segment: `.` or `..` as a whole segment, also before `;` parameters, which do not hide
 * dot-segments from servers that strip them (Tomcat, Shiro). One regex instead of splitting the
 * path into segments on every request.
 */
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:[;/]|$)/;
/** Query strings may hold more than pchar, but never control bytes, spaces or a fragment. */
const QUERY_CHARS = /^[\x21-\x7e]*$/;

/**
 * Parse a request target (the second word of the request line). Only origin-form (`/path?query`)
 * is accepted; `*` and absolute-form are for proxies and OPTIONS, which an MCP endpoint never needs.
 */
export function parseTarget(raw: string): Target {
  if (!raw.startsWith('/')) return { ok: false, reason: 'request target must be an absolute path' };
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  const search = q === -1 ? '' : raw.slice(q);
  if (!PATH_CHARS.test(path)) return { ok: false, reason: 'path contains a character that must be percent-encoded (space, backslash, control byte or fragment)' };
  if (BAD_ESCAPE.test(path)) return { ok: false, reason: 'path has a malformed percent-escape' };
  if (DANGEROUS_ESCAPE.test(path)) return { ok: false, reason: 'path has an encoded slash, backslash, dot, percent or NUL' };
  if (path.includes('//')) return { ok: false, reason: 'path has an empty segment (//)' };
  if (DOT_SEGMENT.test(path)) return { ok: false, reason: 'path has a dot-segment' };
  if (!QUERY_CHARS.test(search)) return { ok: false, reason: 'query contains a space, control byte or fragment' };
  return { ok: true, path, search };
}

/** Compiled exempt paths: an exact, case-sensitive match on the raw path, for GET and HEAD only. */
export function createExemptMatcher(paths: readonly string[]): (method: string, path: string) => boolean {
  const set = new Set(paths);
  return (method, path) => (method === 'GET' || method === 'HEAD') && set.has(path);
}
