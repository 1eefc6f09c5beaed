/**
 * Header rewriting between the client and the upstream, both directions.
 *
 * RFC 9110 7.6.1: a proxy drops the hop-by-hop fields and every field named in Connection. The
 * sidecar's own additions (X-Forwarded-*, identity headers) are applied after that removal, so a
 * client's `Connection: x-forwarded-for` can never strip what the sidecar adds, and a client can
 * never send forged identity headers (they are always removed first).
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { PARAM_PREFIX } from '../mcp/mirrored-headers.ts';

/** RFC 9110 7.6.1 and RFC 9112: fields that describe one connection, never forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

/**
 * Request fields the sidecar answers itself. RFC 9110 10.1.1: `Expect: 100-continue` is answered by
 * the sidecar once the request is authorized (edge/handle.ts), and the body then goes on whole;
 * the upstream never waits for a continue of its own (undici refuses the field anyway).
 */
const ANSWERED_HERE = new Set(['expect']);

/** Identity headers the sidecar may add; always removed from the incoming request first. */
export const IDENTITY_HEADERS = ['x-mcp-auth-subject', 'x-mcp-auth-groups'] as const;

/** Fields named in the Connection header (lower case); undefined when there is none. */
function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const out = new Set<string>();
  for (const v of Array.isArray(value) ? value : [value]) {
    for (const t of v.split(',')) {
      const n = t.trim().toLowerCase();
      if (n) out.add(n);
    }
  }
  return out;
}

/** Incoming request fields never forwarded as they came: one lookup per field on the hot path. */
const NOT_FORWARDED: ReadonlySet<string> = new Set([...HOP_BY_HOP, ...ANSWERED_HERE, ...IDENTITY_HEADERS, 'host', 'forwarded']);

export interface UpstreamHeaderOptions {
  /** Extra names to drop (the API key header, Authorization when consumed). */
  readonly drop: ReadonlySet<string>;
  /** Added after all dropping. */
  readonly add: Readonly<Record<string, string>>;
  /** X-Forwarded-For to send (see Pipeline.forwardedFor). */
  readonly forwardedFor: string;
  /** `http` or `https` as the client used it. */
  readonly proto: string;
  /** Host:port of the upstream, sent as Host (as nginx sends $proxy_host). */
  readonly upstreamHost: string;
}

/**
 * Headers for the upstream request.
 *
 * Names with `_` are dropped, as nginx does by default (`underscores_in_headers off`): CGI and WSGI
 * servers fold `-` and `_` into one (`HTTP_X_FORWARDED_FOR`), so `X_Forwarded_For` or
 * `X_MCP_Auth_Subject` would reach them as the forwarding and identity headers this function
 * promises a client cannot forge. The one exception is `Mcp-Param-<name>` (MCP 2026-07-28): `<name>`
 * is a tool's own `x-mcp-header` token, which may hold `_` (`Mcp-Param-file_path`); folded, it stays
 * under the `MCP_PARAM_` prefix, so it can forge nothing, and mcp/ has checked it against the body.
 */
export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, o: UpstreamHeaderOptions): Record<string, string | string[]> {
  const named = connectionTokens(incoming.connection);
  const out: Record<string, string | string[]> = {};
  // for...in, not Object.entries: no [name, value] array per field on every request.
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || NOT_FORWARDED.has(name) || o.drop.has(name) || named?.has(name) || (name.includes('_') && !name.startsWith(PARAM_PREFIX)) || name.startsWith('x-forwarded-')) continue;
    out[name] = value;
  }
  out.host = o.upstreamHost;
  out['x-forwarded-for'] = o.forwardedFor;
  out['x-forwarded-proto'] = o.proto;
  if (incoming.host !== undefined) out['x-forwarded-host'] = incoming.host;
  // Always identity: the upstream is on loopback in the same pod, where compression only costs CPU,
  // and DLP and the tools/list filter must read plain bytes (they refuse unknown encodings).
  out['accept-encoding'] = 'identity';
  for (const k in o.add) out[k] = o.add[k]!;
  return out;
}

/** Headers for the client's response: the upstream's, less hop-by-hop fields, then `extra` (which wins). */
export function clientResponseHeaders(upstream: Record<string, string | string[] | undefined>, extra: Readonly<Record<string, string>> = {}): OutgoingHttpHeaders {
  const named = connectionTokens(upstream.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined) continue;
    const n = name.toLowerCase();
    if (HOP_BY_HOP.has(n) || named?.has(n)) continue;
    out[n] = value;
  }
  for (const k in extra) out[k] = extra[k];
  return out;
}
