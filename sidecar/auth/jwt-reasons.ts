/**
 * Why a JWT was refused: the small, fixed label set of `mcp_warden_jwt_failures_total{reason}`,
 * and the mapping from jose's error codes to it. A fixed set keeps the metric's cardinality
 * bounded whatever an attacker sends; the text shown to the client comes from here too, so no
 * part of a token ever reaches a response.
 */
import { errors } from 'jose';

export const JWT_FAILURE_REASONS = [
  'malformed', // not three base64url parts of JSON, over the size cap, an odd kid
  'duplicate_header', // more than one Authorization header
  'bad_scheme', // Authorization present but not `Bearer <token>`
  'bad_algorithm', // alg not in the pinned list (`none`, HS256 against RSA keys, ...)
  'forbidden_header', // crit, jku, x5u, jwk, x5c: never honoured (no outbound fetch)
  'bad_type', // typ other than at+jwt / JWT
  'unknown_kid', // no key with that kid, even after a refetch (or within the cooldown)
  'idp_unavailable', // keys could not be fetched (down, slow, bad answer): refused, never allowed
  'bad_signature',
  'expired',
  'not_yet_valid', // nbf (or iat) in the future beyond the clock skew
  'bad_issuer',
  'bad_audience',
  'missing_claim', // exp, iss, aud or sub absent, or a claim of the wrong type
  'insufficient_group',
  'insufficient_scope',
] as const;

export type JwtFailureReason = (typeof JWT_FAILURE_REASONS)[number];

/** Thrown by the key resolver when the IdP could not answer (mapped to `idp_unavailable`). */
export class IdpUnavailableError extends Error {
  readonly code = 'ERR_IDP_UNAVAILABLE';
  /** Seconds after which a retry may succeed (the next fetch the cooldown allows). */
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super(message);
    this.name = 'IdpUnavailableError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Map whatever jwtVerify (or our key resolver) threw to a reason. Unknown errors are `malformed`. */
export function reasonOf(err: unknown): JwtFailureReason {
  if (err instanceof IdpUnavailableError) return 'idp_unavailable';
  if (err instanceof errors.JWTExpired) return 'expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing' || err.reason === 'invalid') return 'missing_claim';
    if (err.claim === 'nbf' || err.claim === 'iat') return 'not_yet_valid';
    if (err.claim === 'iss') return 'bad_issuer';
    if (err.claim === 'aud') return 'bad_audience';
    if (err.claim === 'typ') return 'bad_type';
    return 'missing_claim';
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'bad_signature';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'bad_algorithm';
  if (err instanceof errors.JWKSNoMatchingKey) return 'unknown_kid';
  if (err instanceof errors.JOSENotSupported) return 'bad_algorithm';
  return 'malformed';
}

/**
 * The `error_description` sent with a 401 (RFC 6750 3): fixed text per reason, so nothing from
 * the token (kid, claims, signature) is ever echoed.
 */
export const REASON_TEXT: Readonly<Record<JwtFailureReason, string>> = {
  malformed: 'the token is not a well-formed JWS compact JWT',
  duplicate_header: 'more than one Authorization header',
  bad_scheme: 'the Authorization header does not carry a Bearer token',
  bad_algorithm: 'the token algorithm is not accepted',
  forbidden_header: 'the token header carries a parameter that is not accepted',
  bad_type: 'the token type is not an access token',
  unknown_kid: 'the token was signed by an unknown key',
  idp_unavailable: 'the signing keys could not be fetched from the identity provider',
  bad_signature: 'the token signature is invalid',
  expired: 'the token has expired',
  not_yet_valid: 'the token is not valid yet',
  bad_issuer: 'the token issuer is not accepted',
  bad_audience: 'the token audience is not accepted',
  missing_claim: 'the token lacks a required claim',
  insufficient_group: 'the token carries none of the required groups',
  insufficient_scope: 'the token lacks a required scope',
};
