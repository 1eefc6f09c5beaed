/**
 * How an API-key deployment refuses a request without a valid key, so that MCP clients built
 * around OAuth (mcp-remote, the MCP Inspector, the SDK's auth provider) fail at once with a clear
 * message instead of waiting for a browser authorization that can never happen:
 *
 * - Every 401 names the scheme and the header: `WWW-Authenticate: ApiKey realm="mcp-warden",
 *   header="X-API-Key"` (RFC 9110 11.6.1: a 401 carries a challenge). There is no registered
 *   scheme for API keys; `ApiKey` with a `header` parameter says what to send. With JWT on too
 *   (mode any) it follows the Bearer challenge, which stays first so OAuth clients still find
 *   `resource_metadata`.
 * - With no OAuth (mode apikey), a request without a valid key to an OAuth discovery document or
 *   to the default OAuth endpoints of MCP 2025-03-26 (`/authorize`, `/token`, `/register`) gets
 *   404, not 401: a client that sees 401 there concludes OAuth is needed, registers, and waits.
 *   (mcp-remote 0.15 treats any error whose text contains "Unauthorized" as "sign in in the
 *   browser", and the 401 body says exactly that.) A request with a valid key is forwarded as
 *   before, so an upstream's own documents stay reachable to its callers.
 */
import type { Config } from '../config.ts';
import { andThen, type Reply, type Stage } from '../context.ts';
import { ERR } from '../errors.ts';
import { METADATA_SUFFIX, REALM } from './challenge.ts';

/** The challenge for API keys. The header name is an RFC 9110 token (settings.ts), safe unquoted or quoted. */
function apiKeyChallenge(config: Pick<Config, 'apiKeyHeader'>): string {
  return `ApiKey realm="${REALM}", header="${config.apiKeyHeader}"`;
}

/** RFC 8414 / RFC 9728 / OpenID Connect Discovery documents, in their plain and path-suffixed forms. */
const DISCOVERY = [METADATA_SUFFIX, '/.well-known/oauth-authorization-server', '/.well-known/openid-configuration'] as const;
/** MCP 2025-03-26 authorization, "Fallbacks for Servers without Metadata Discovery". */
const DEFAULT_ENDPOINTS: ReadonlySet<string> = new Set(['/authorize', '/token', '/register']);

/** Whether a canonical path is one an OAuth client probes or calls. */
export function isOAuthPath(path: string): boolean {
  if (DEFAULT_ENDPOINTS.has(path)) return true;
  // OpenID Connect Discovery 1.0 4: the issuer's path comes first (`/mcp/.well-known/openid-configuration`).
  if (path.endsWith('/.well-known/openid-configuration')) return true;
  return DISCOVERY.some((d) => path === d || path.startsWith(`${d}/`));
}

/** Wrap the authentication stage so its 401s name the API-key scheme, and OAuth paths answer 404 when OAuth is off. */
export function withApiKeyRefusals(config: Config, stage: Stage): Stage {
  if (!config.apiKeyEnabled || (config.auth !== 'apikey' && config.auth !== 'any')) return stage;
  const challenge = apiKeyChallenge(config);
  const noOAuth = config.auth === 'apikey';
  const notFound: Reply = Object.freeze({
    status: 404,
    code: ERR.OAUTH_NOT_OFFERED,
    headers: Object.freeze({ 'cache-control': 'no-store' }),
    body: Object.freeze({ error: 'Not Found', message: `This server does not use OAuth; send the API key in the ${config.apiKeyHeader} header` }),
  });
  return (ctx) =>
    andThen(stage(ctx), (reply): Reply | undefined => {
      if (reply === undefined || reply.status !== 401) return reply;
      if (noOAuth && isOAuthPath(ctx.path)) return notFound;
      const bearer = reply.headers?.['www-authenticate'];
      return { ...reply, headers: { ...reply.headers, 'www-authenticate': bearer ? `${bearer}, ${challenge}` : challenge } };
    });
}
