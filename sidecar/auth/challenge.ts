/**
 * The refusals authentication sends, as Replies: 401 with a Bearer challenge (RFC 6750 3), 403
 * `insufficient_scope`, and 503 when the IdP cannot be reached. Every 401 names the RFC 9728
 * protected-resource metadata (`resource_metadata`), which is how an MCP client discovers the
 * authorization server (MCP authorization spec, "Authorization Server Discovery").
 *
 * Bodies are JSON and fixed text: a token, or any part of one, is never echoed.
 */
import type { Config } from '../config.ts';
import type { Reply } from '../context.ts';
import { ERR } from '../errors.ts';

/** The realm in every challenge. */
export const REALM = 'mcp-warden';
/** RFC 9728 3: the well-known suffix for protected-resource metadata. */
export const METADATA_SUFFIX = '/.well-known/oauth-protected-resource';

type ChallengeConfig = Pick<Config, 'resourceUrl'>;

/**
 * The path of the resource URL with any trailing slash removed ('' for a bare origin).
 * RFC 9728 3.1: the terminating slash after the host is dropped before inserting the suffix.
 */
export function resourcePath(resourceUrl: string): string {
  return new URL(resourceUrl).pathname.replace(/\/+$/, '');
}

/**
 * The metadata URL for this resource: origin + `/.well-known/oauth-protected-resource` + path
 * (RFC 9728 3.1). A query in the resource URL is not carried over (RFC 8707 2 advises against one).
 */
export function resourceMetadataUrl(resourceUrl: string): string {
  const u = new URL(resourceUrl);
  return `${u.origin}${METADATA_SUFFIX}${resourcePath(resourceUrl)}`;
}

/** RFC 7230 quoted-string: our values are fixed ASCII, but escape anyway so a header can never break. */
function quote(v: string): string {
  return `"${v.replace(/[^\x20-\x7e]/g, '').replace(/(["\\])/g, '\\$1')}"`;
}

function challenge(config: ChallengeConfig, params: Record<string, string | undefined>): string {
  const parts = [`realm=${quote(REALM)}`];
  if (config.resourceUrl !== undefined) parts.push(`resource_metadata=${quote(resourceMetadataUrl(config.resourceUrl))}`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) parts.push(`${k}=${quote(v)}`);
  return `Bearer ${parts.join(', ')}`;
}

/**
 * 401. Without a token: a bare challenge (RFC 6750 3.1: no error code when the request lacked
 * credentials). With one: `error="invalid_token"` and a fixed description.
 */
export function unauthorizedReply(config: ChallengeConfig, opts: { tokenPresented: boolean; description?: string }): Reply {
  const message = opts.tokenPresented ? (opts.description ?? 'the access token is invalid') : 'an access token is required';
  const header = opts.tokenPresented ? challenge(config, { error: 'invalid_token', error_description: opts.description }) : challenge(config, {});
  return {
    status: 401,
    code: opts.tokenPresented ? ERR.AUTH_INVALID_TOKEN : ERR.AUTH_MISSING,
    headers: { 'www-authenticate': header, 'cache-control': 'no-store' },
    body: { error: 'Unauthorized', message },
  };
}

/**
 * 403 `insufficient_scope` (RFC 6750 3.1). `scope` lists every scope the resource needs, so a
 * client can ask for them all at once (MCP authorization spec, "Scope Challenge Handling").
 */
export function forbiddenReply(config: ChallengeConfig, opts: { scopes: readonly string[]; description: string }): Reply {
  const scope = opts.scopes.length > 0 ? opts.scopes.join(' ') : undefined;
  return {
    status: 403,
    code: ERR.AUTH_INSUFFICIENT_SCOPE,
    headers: { 'www-authenticate': challenge(config, { error: 'insufficient_scope', scope, error_description: opts.description }), 'cache-control': 'no-store' },
    body: { error: 'Forbidden', message: opts.description },
  };
}

/**
 * 503 when a token's key could not be fetched. Not a 401: the token may well be valid (a key the
 * IdP just rotated in), and RFC 6750 `invalid_token` would tell the client to throw it away. The
 * request is refused either way; Retry-After says when the next fetch may be tried.
 */
export function idpUnavailableReply(retryAfterSeconds: number): Reply {
  return {
    status: 503,
    code: ERR.AUTH_IDP_UNAVAILABLE,
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))), 'cache-control': 'no-store' },
    body: { error: 'Service Unavailable', message: 'the identity provider could not be reached to verify the token; try again later' },
  };
}

