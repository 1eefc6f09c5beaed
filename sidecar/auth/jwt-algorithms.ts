/**
 * Which JWS algorithms are accepted: the configured list, or a default for the key source, never
 * mixing symmetric and asymmetric ones with one key source (RFC 8725 3.1, key confusion). Config
 * checks it at load; the authenticator uses the same answer.
 */
import { ConfigError } from '../errors.ts';
import { SETTINGS, type Settings } from '../settings.ts';

/** Algorithms accepted when MCP_AUTH_JWT_ALGORITHMS is unset and keys come from a JWKS. */
const DEFAULT_ASYMMETRIC_ALGORITHMS = Object.freeze(['RS256', 'PS256', 'ES256', 'EdDSA']);
/** Algorithms accepted when MCP_AUTH_JWT_ALGORITHMS is unset and a shared secret is configured. */
const DEFAULT_SECRET_ALGORITHMS = Object.freeze(['HS256']);

/** The algorithm list in force, checked against the key source. Throws ConfigError. */
export function resolveAlgorithms(config: Pick<Settings, 'jwtAlgorithms' | 'jwtSecret'>): readonly string[] {
  const secret = config.jwtSecret !== undefined;
  const algs = config.jwtAlgorithms ?? (secret ? DEFAULT_SECRET_ALGORITHMS : DEFAULT_ASYMMETRIC_ALGORITHMS);
  const wrong = algs.filter((a) => a.startsWith('HS') !== secret);
  if (wrong.length > 0) {
    const expected = secret ? 'only HS256, HS384 or HS512 with MCP_AUTH_JWT_SECRET' : 'only asymmetric algorithms (RS*, PS*, ES*, EdDSA) with a JWKS; HS* needs MCP_AUTH_JWT_SECRET';
    throw new ConfigError([{ setting: SETTINGS.jwtAlgorithms.env, value: JSON.stringify(algs.join(',')), expected }]);
  }
  return algs;
}
