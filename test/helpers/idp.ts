/**
 * A real OpenID provider for tests: oidc-provider 9 on 127.0.0.1, port 0, issuing RFC 9068 JWT
 * access tokens (`typ: at+jwt`) through the client-credentials grant with RFC 8707 resource
 * indicators: the token's `aud` is the requested resource (or the default one).
 *
 * Key rotation: oidc-provider's `jwks` is fixed per instance, so a small dispatching server owns
 * the port and hands each request to the current instance; rotateKeys() builds a second instance
 * with the same issuer and new keys and swaps it in. setDown(true) makes every request fail at the
 * socket (connection reset), as an unreachable IdP does.
 */
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

export interface IdpOptions {
  /** The resource tokens are for by default (their `aud`). */
  readonly audience: string;
  /** Scopes the client may ask for. Default: mcp:read mcp:write mcp:admin. */
  readonly scopes?: readonly string[];
}

export interface TokenOptions {
  /** Space-separated scopes to ask for; none when unset (the token then carries no scope). */
  readonly scope?: string;
  /** RFC 8707 resource; the token's audience. Default: the IdP's audience. */
  readonly resource?: string;
  /** Groups put in the token's `groups` claim. */
  readonly groups?: readonly string[];
}

export interface Idp {
  readonly issuer: string;
  readonly clientId: string;
  /** The current signing key's kid. */
  readonly kid: string;
  token(opts?: TokenOptions): Promise<string>;
  /** New signing key (listed first, old one kept in the JWKS). Resolves to the new kid. */
  rotateKeys(): Promise<string>;
  /** While down, every connection is reset before an answer. */
  setDown(down: boolean): void;
  /** Requests seen, by path (discovery, /jwks, /token). */
  readonly hits: Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
interface ProviderInstance {
  callback(): Handler;
}
type ProviderCtor = new (issuer: string, config: Record<string, unknown>) => ProviderInstance;

const CLIENT_ID = 'mcp-test-client';
const CLIENT_SECRET = 'mcp-test-client-secret-0123456789abcdef';

async function newSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: `k-${Math.random().toString(36).slice(2, 10)}`, alg: 'RS256', use: 'sig' };
}

/** Start the IdP. Call stop() in `after`. */
export async function startIdp(opts: IdpOptions): Promise<Idp> {
  // oidc-provider ships no type declarations; a narrow constructor type is all the tests need.
  const { default: Provider } = (await import('oidc-provider' as string)) as { default: ProviderCtor };
  const scopes = opts.scopes ?? ['mcp:read', 'mcp:write', 'mcp:admin'];
  let nextGroups: readonly string[] | undefined;
  let down = false;
  const hits: Record<string, number> = {};

  const build = (issuer: string, keys: JWK[]): Handler =>
    new Provider(issuer, {
      clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], token_endpoint_auth_method: 'client_secret_post', scope: scopes.join(' ') }],
      jwks: { keys },
      scopes,
      cookies: { keys: ['test-cookie-key-not-secret'] },
      ttl: { ClientCredentials: 600 },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => opts.audience,
          useGrantedResource: () => true,
          // Any absolute resource is accepted, so a test can mint a token for a foreign audience.
          getResourceServerInfo: (_ctx: unknown, resource: string) => ({ scope: scopes.join(' '), audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
        },
      },
      extraTokenClaims: () => (nextGroups === undefined ? undefined : { groups: [...nextGroups] }),
    }).callback();

  let current: Handler | undefined;
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    hits[path] = (hits[path] ?? 0) + 1;
    if (down || current === undefined) {
      req.socket.destroy();
      return;
    }
    current(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let keys = [await newSigningKey()];
  current = build(issuer, keys);

  return {
    issuer,
    clientId: CLIENT_ID,
    get kid() {
      return keys[0]!.kid!;
    },
    hits,
    async token(t = {}) {
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
      if (t.scope !== undefined) form.set('scope', t.scope);
      if (t.resource !== undefined) form.set('resource', t.resource);
      nextGroups = t.groups;
      try {
        const res = await fetch(`${issuer}/token`, { method: 'POST', body: form });
        const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
        if (!res.ok || typeof body.access_token !== 'string') throw new Error(`token endpoint: ${res.status} ${body.error ?? ''} ${body.error_description ?? ''}`);
        return body.access_token;
      } finally {
        nextGroups = undefined;
      }
    },
    async rotateKeys() {
      keys = [await newSigningKey(), ...keys];
      current = build(issuer, keys);
      return keys[0]!.kid!;
    },
    setDown(d) {
      down = d;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---- a bare JWKS server and hand-made tokens, for the attack table ----

export interface RsaKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public JWK as the JWKS serves it. */
  readonly jwk: JWK;
}

export function rsaKey(kid: string): RsaKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicKey, jwk: { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, alg: 'RS256', use: 'sig' } };
}

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/**
 * A compact JWS built by hand, so a test can put anything in the header (jose's SignJWT refuses
 * unknown `crit`, for one). `sign`: an RSA private key (RS256), `{ hmac }` (HS256), or 'none'.
 */
export function mintToken(header: Record<string, unknown>, payload: Record<string, unknown>, signWith: KeyObject | { hmac: string | Buffer } | 'none'): string {
  const input = `${b64(header)}.${b64(payload)}`;
  if (signWith === 'none') return `${input}.`;
  if ('hmac' in signWith) return `${input}.${createHmac('sha256', signWith.hmac).update(input).digest('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), signWith).toString('base64url')}`;
}

export type JwksMode = 'ok' | 'down' | 'hang';

export interface JwksServer {
  /** http://127.0.0.1:port: also an issuer whose discovery document points at /jwks. */
  readonly url: string;
  readonly jwksUrl: string;
  /** Every request's path, in order. */
  readonly requests: string[];
  setKeys(keys: readonly JWK[]): void;
  /** 'down': reset the connection; 'hang': never answer. */
  setMode(mode: JwksMode): void;
  /** The `issuer` the discovery document claims (default: the server's own URL). */
  setDiscoveryIssuer(issuer: string): void;
  stop(): Promise<void>;
}

/** A JWKS (and discovery) server on 127.0.0.1, port 0, that counts its requests. */
export async function startJwksServer(keys: readonly JWK[] = []): Promise<JwksServer> {
  let current = [...keys];
  let mode: JwksMode = 'ok';
  let claimedIssuer: string | undefined;
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (mode === 'down') return void req.socket.destroy();
    if (mode === 'hang') return; // never answers; closeAllConnections() in stop() ends it
    if (req.url === '/jwks') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: current }));
    if (req.url === '/.well-known/openid-configuration') {
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: claimedIssuer ?? url, jwks_uri: `${url}/jwks` }));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    jwksUrl: `${url}/jwks`,
    requests,
    setKeys: (k) => void (current = [...k]),
    setMode: (m) => void (mode = m),
    setDiscoveryIssuer: (i) => void (claimedIssuer = i),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
