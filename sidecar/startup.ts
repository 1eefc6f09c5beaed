/** What the start line says about authentication, so an operator sees at once what is enforced. */
import type { Config } from './config.ts';

export function describeAuth(config: Config): { summary: Record<string, unknown>; warning?: string } {
  const summary: Record<string, unknown> = { mode: config.auth };
  if (config.apiKeyEnabled) {
    summary.apiKey = { header: config.apiKeyHeader, keys: config.apiKeys?.length ?? 0, keyFile: config.apiKeyFile };
  }
  if (config.jwtEnabled) {
    summary.jwt = { issuer: config.jwtIssuer, jwksUrl: config.jwtJwksUrl, hs256: config.jwtSecret !== undefined, audience: config.jwtAudience };
  }
  summary.exemptPaths = config.exemptPaths;
  if (config.auth === 'none') return { summary, warning: 'Authentication disabled - MCP_AUTH_KEY not set' };
  return { summary };
}
