/**
 * The authentication stage: decides who is calling from the API key header and/or a bearer token,
 * according to the auth mode (`apikey`, `jwt`, `any`, or `none` when nothing is configured).
 *
 * Whatever carried a credential is never forwarded: the key header and, when it was consumed,
 * Authorization are added to the request's drop list (MCP authorization spec: no token
 * passthrough). Refusals are Replies with stable codes; the edge logs and counts them.
 */
import type { Config } from '../config.ts';
import { andThen, type Identity, type Reply, type RequestContext, type Stage } from '../context.ts';
import { ERR } from '../errors.ts';
import type { KeyStore } from './api-key.ts';

/** What a bearer-token verifier (auth/jwt.ts) offers this stage. */
export interface BearerAuthenticator {
  authenticate(authorization: string | string[] | undefined): Promise<{ ok: true; identity: Identity } | { ok: false; reply: Reply }>;
}

/** The 401 for a missing or wrong API key: exactly this body, as operators of the seed guides expect. */
export const INVALID_API_KEY: Reply = Object.freeze({
  status: 401,
  code: ERR.AUTH_INVALID_KEY,
  body: Object.freeze({ error: 'Unauthorized', message: 'Invalid API key' }),
});

const ANONYMOUS: Identity = Object.freeze({ kind: 'none', id: 'anonymous', groups: [], scopes: [] });

/** The credential in the key header; with `Authorization` as the header, `Bearer <key>` works too. */
function presentedKey(value: string | string[] | undefined, headerIsAuthorization: boolean): string | undefined {
  if (value === undefined || Array.isArray(value)) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (headerIsAuthorization) {
    const m = /^bearer\s+(.+)$/i.exec(v);
    if (m) return m[1]!.trim();
  }
  return v;
}

export interface AuthStageDeps {
  readonly keys: KeyStore | undefined;
  readonly bearer: BearerAuthenticator | undefined;
  /** The 401 used when JWT is on and no credential at all was presented (carries WWW-Authenticate). */
  readonly challenge: Reply | undefined;
}

/** Header-safe form of a claim value: printable ASCII passes, anything else is percent-encoded. */
function headerValue(v: string): string {
  return /^[\x20-\x7e]*$/.test(v) ? v : encodeURIComponent(v);
}

/**
 * MCP_AUTH_FORWARD_IDENTITY: tell the upstream who called. The edge removed any incoming copies of
 * these headers before this runs, so the upstream can trust them (it is reachable only through the
 * sidecar when the pod's NetworkPolicy says so).
 */
function forwardIdentity(ctx: RequestContext, identity: Identity): void {
  if (identity.kind === 'none') return;
  ctx.addHeaders['x-mcp-auth-subject'] = headerValue(identity.subject ?? identity.id);
  ctx.addHeaders['x-mcp-auth-groups'] = identity.groups.map((g) => headerValue(g).replace(/,/g, '%2C')).join(',');
}

export function createAuthStage(config: Config, deps: AuthStageDeps): Stage {
  const stage = authenticate(config, deps);
  if (!config.forwardIdentity) return stage;
  return (ctx) =>
    andThen(stage(ctx), (refused) => {
      if (refused === undefined && ctx.identity !== undefined) forwardIdentity(ctx, ctx.identity);
      return refused;
    });
}

function authenticate(config: Config, deps: AuthStageDeps): Stage {
  const header = config.apiKeyHeader.toLowerCase();
  const headerIsAuthorization = header === 'authorization';
  const mode = config.auth;

  const tryKey = (ctx: RequestContext): { identity?: Identity; presented: boolean } => {
    ctx.dropHeaders.add(header);
    const key = presentedKey(ctx.headers[header], headerIsAuthorization);
    if (key === undefined || deps.keys === undefined) return { presented: key !== undefined };
    const id = deps.keys.match(key);
    return id === undefined ? { presented: true } : { presented: true, identity: { kind: 'apikey', id, groups: [], scopes: [] } };
  };

  // Synchronous except where a bearer token must be verified (auth/jwt.ts may fetch keys).
  return (ctx) => {
    if (mode === 'none') {
      ctx.identity = ANONYMOUS;
      return undefined;
    }
    if (mode === 'apikey') {
      const r = tryKey(ctx);
      if (!r.identity) return INVALID_API_KEY;
      ctx.identity = r.identity;
      return undefined;
    }
    // jwt or any: Authorization is consumed either way, never forwarded; nor is a configured key
    // header, even in jwt mode where the key is not accepted (it is still a secret).
    ctx.dropHeaders.add('authorization');
    if (deps.keys !== undefined) ctx.dropHeaders.add(header);
    if (mode === 'any') {
      const r = tryKey(ctx);
      if (r.identity) {
        ctx.identity = r.identity;
        return undefined;
      }
      // A key header that was present but wrong is an API-key failure, whatever the token says.
      if (r.presented && !headerIsAuthorization) return INVALID_API_KEY;
    }
    const auth = ctx.headers.authorization;
    if (auth === undefined && deps.challenge) return deps.challenge;
    return deps.bearer!.authenticate(auth).then((result) => {
      if (!result.ok) return result.reply;
      ctx.identity = result.identity;
      return undefined;
    });
  };
}
