/**
 * CORS for browser-based MCP clients on the origins in MCP_AUTH_ALLOWED_ORIGINS (Fetch standard,
 * "CORS protocol"). A browser sends its preflight (`OPTIONS` with `Origin` and
 * `Access-Control-Request-Method`) without credentials, so the sidecar answers it itself: it is
 * never forwarded, as no unauthenticated request reaches the MCP server. Every other response to
 * an allowed origin, refusals included (401, 403, 429: a client must be able to read them),
 * carries the CORS headers, and the upstream's own CORS headers are replaced, so the allow list
 * here is the only one in force. The stage runs first, so the RFC 9728 metadata document and
 * exempt paths get the headers too. Requests from other origins get none here; past those public
 * paths, the Origin check refuses them with 403 (MCP transport: DNS rebinding), preflights included.
 *
 * Credentials mode (cookies) is not allowed: MCP clients authenticate with headers, which CORS
 * lets through once the preflight allows them.
 */
import type { Config } from './config.ts';
import type { Reply, RequestContext, ResponseStage } from './context.ts';
import { HEADER_NAME } from './settings.ts';
import { PARAM_PREFIX } from './mcp/mirrored-headers.ts';

/** Methods of the Streamable HTTP and HTTP+SSE transports (DELETE ends a 2025 session). */
const METHODS = 'GET, POST, DELETE';
/**
 * Request headers MCP clients send besides the credential: the body's media type, and the
 * transport's headers (2025-11-25 and 2026-07-28 Streamable HTTP). `Mcp-Param-<name>` names come
 * from tool schemas, so each one a preflight asks for is allowed by its prefix.
 */
const MCP_REQUEST_HEADERS = ['Content-Type', 'Accept', 'Authorization', 'Mcp-Session-Id', 'MCP-Protocol-Version', 'Last-Event-ID', 'Mcp-Method', 'Mcp-Name'];
/** Response headers a client must read: the session, the protocol, challenges and rate-limit fields. */
const EXPOSED = 'Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate, Retry-After, RateLimit, RateLimit-Policy';
/** Browsers cap this anyway (Chromium at 2 hours); ten minutes keeps header changes quick to apply. */
const MAX_AGE_SECONDS = '600';

/** Add `Origin` to a Vary value (RFC 9110 12.5.5) without losing what the upstream varies on. */
function varyWithOrigin(vary: string | string[] | undefined): string {
  const names = (Array.isArray(vary) ? vary.join(',') : (vary ?? '')).split(',').map((v) => v.trim()).filter((v) => v !== '');
  if (names.includes('*')) return '*';
  return names.some((n) => n.toLowerCase() === 'origin') ? names.join(', ') : [...names, 'Origin'].join(', ');
}

/** The upstream's CORS headers give way to these; Vary keeps the upstream's names plus Origin. */
const replaceUpstreamCors: ResponseStage = (head, ctx) => {
  for (const name of Object.keys(head.headers)) if (name.startsWith('access-control-')) delete head.headers[name];
  ctx.responseHeaders.vary = varyWithOrigin(head.headers.vary);
  delete head.headers.vary;
  return undefined;
};

/**
 * The CORS stage, or undefined when no origin is allowed (then every request with an Origin gets
 * 403 and no CORS header is ever sent).
 */
export function createCorsStage(config: Pick<Config, 'allowedOrigins' | 'apiKeyHeader'>): ((ctx: RequestContext) => Reply | undefined) | undefined {
  if (config.allowedOrigins.length === 0) return undefined;
  const allowed = new Set(config.allowedOrigins);
  const fixed = [config.apiKeyHeader, ...MCP_REQUEST_HEADERS];
  const fixedLower = new Set(fixed.map((h) => h.toLowerCase()));

  const preflight = (ctx: RequestContext): Reply => {
    // Fetch sends the names lower-cased, comma-separated; only MCP parameter headers are added
    // to the fixed list, and only names that are valid tokens are ever echoed.
    const asked = String(ctx.headers['access-control-request-headers'] ?? '').split(',').map((h) => h.trim().toLowerCase());
    const params = asked.filter((h) => h.startsWith(PARAM_PREFIX) && h.length > PARAM_PREFIX.length && HEADER_NAME.test(h) && !fixedLower.has(h));
    return {
      status: 204,
      code: 'OK',
      headers: {
        'access-control-allow-methods': METHODS,
        'access-control-allow-headers': [...fixed, ...new Set(params)].join(', '),
        'access-control-max-age': MAX_AGE_SECONDS,
        vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
      },
    };
  };

  return (ctx) => {
    const origin = ctx.headers.origin;
    if (origin === undefined || !allowed.has(origin)) return undefined;
    ctx.responseHeaders['access-control-allow-origin'] = origin;
    ctx.responseHeaders['access-control-expose-headers'] = EXPOSED;
    ctx.responseHeaders.vary = 'Origin';
    if (ctx.method === 'OPTIONS' && ctx.headers['access-control-request-method'] !== undefined) return preflight(ctx);
    ctx.responseStages.push(replaceUpstreamCors);
    return undefined;
  };
}
