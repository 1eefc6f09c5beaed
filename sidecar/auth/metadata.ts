/**
 * RFC 9728 OAuth 2.0 Protected Resource Metadata: the document an MCP client fetches after a 401
 * to learn which authorization server issues tokens for this resource (MCP authorization spec,
 * "Authorization Server Discovery"). Served without authentication at both
 * `/.well-known/oauth-protected-resource` and the path-suffixed form RFC 9728 3.1 defines
 * (`/.well-known/oauth-protected-resource/mcp` for `https://host/mcp`).
 */
import type { Config } from '../config.ts';
import type { Reply } from '../context.ts';
import { METADATA_SUFFIX, resourcePath } from './challenge.ts';

type MetadataConfig = Pick<Config, 'jwtEnabled' | 'resourceUrl' | 'jwtIssuer' | 'jwtRequiredScopes'>;

/** RFC 9728 2: the metadata fields this resource publishes. */
export interface ProtectedResourceMetadata {
  readonly resource: string;
  readonly authorization_servers?: readonly string[];
  readonly scopes_supported?: readonly string[];
  readonly bearer_methods_supported: readonly string[];
  readonly resource_name: string;
}

/** The document itself (pure). */
export function protectedResourceMetadata(config: MetadataConfig & { resourceUrl: string }): ProtectedResourceMetadata {
  return {
    resource: config.resourceUrl,
    // A shared-secret deployment with no issuer has no authorization server to name.
    ...(config.jwtIssuer !== undefined ? { authorization_servers: [config.jwtIssuer] } : {}),
    ...(config.jwtRequiredScopes.length > 0 ? { scopes_supported: [...config.jwtRequiredScopes] } : {}),
    // RFC 6750 2.1 only: tokens in a query string or form body are never read (they leak into logs).
    bearer_methods_supported: ['header'],
    resource_name: 'mcp-warden',
  };
}

/** The paths the document is served at, for this config ([] when JWT is off). */
export function metadataPaths(config: MetadataConfig): readonly string[] {
  if (!config.jwtEnabled || config.resourceUrl === undefined) return [];
  const suffix = resourcePath(config.resourceUrl);
  return suffix === '' ? [METADATA_SUFFIX] : [METADATA_SUFFIX, `${METADATA_SUFFIX}${suffix}`];
}

/**
 * The Reply for a metadata request, or undefined when `path` (canonical, without query) is not a
 * metadata path or JWT is off. The caller answers it before authentication, for GET and HEAD.
 */
export function metadataReply(config: MetadataConfig, path: string): Reply | undefined {
  if (config.resourceUrl === undefined || !metadataPaths(config).includes(path)) return undefined;
  return {
    status: 200,
    code: 'OK',
    headers: {
      'content-type': 'application/json',
      // Public, and fetched by browser-based MCP clients from another origin.
      'access-control-allow-origin': '*',
      'cache-control': 'public, max-age=300',
    },
    body: protectedResourceMetadata({ ...config, resourceUrl: config.resourceUrl }),
  };
}
