/**
 * JWT verification throughput: the authenticator with its verified-token cache (same token
 * again), without it (a fresh token every time), and a bare jose `jwtVerify` with a local key as
 * the baseline, measured in the same run, interleaved in rounds. RS256, 2048-bit key. The JWKS is
 * served once from memory (no network in the measured loop). Run: node bench/jwt.bench.ts
 */
import { SignJWT, exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { loadConfig } from '../sidecar/config.ts';
import { createJwtAuthenticator } from '../sidecar/auth/jwt.ts';

const ISSUER = 'https://idp.example.test';
const RESOURCE = 'https://mcp.example.test/mcp';
const POOL = 3_000;
const CACHED_OPS = 100_000;
const ROUNDS = 5;

const { privateKey, publicKey } = await generateKeyPair('RS256');
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] };
const memoryFetch = (async () => new Response(JSON.stringify(jwks), { headers: { 'content-type': 'application/json' } })) as typeof fetch;
const config = loadConfig({
  env: { MCP_AUTH_UPSTREAM_URL: 'http://127.0.0.1:1', MCP_AUTH_JWT_ISSUER: ISSUER, MCP_AUTH_JWT_JWKS_URL: `${ISSUER}/jwks`, MCP_AUTH_JWT_AUDIENCE: RESOURCE, MCP_AUTH_RESOURCE_URL: RESOURCE },
  readFile: () => {
    throw new Error('no files');
  },
});

console.error(`minting ${POOL} tokens...`);
const exp = Math.floor(Date.now() / 1000) + 3600;
const tokens: string[] = [];
for (let i = 0; i < POOL; i++) {
  tokens.push(await new SignJWT({ scope: 'mcp:read' }).setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'at+jwt' }).setIssuer(ISSUER).setAudience(RESOURCE).setSubject(`user-${i}`).setExpirationTime(exp).sign(privateKey));
}

async function timed(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return n / ((performance.now() - t0) / 1000);
}

const results: Record<string, number[]> = { baseline: [], uncached: [], cached: [] };
for (let round = 0; round < ROUNDS; round++) {
  results.baseline!.push(await timed(POOL, (i) => jwtVerify(tokens[i]!, publicKey, { algorithms: ['RS256'], issuer: ISSUER, audience: RESOURCE })));

  // A new authenticator each round so no token from an earlier round is cached.
  const auth = createJwtAuthenticator(config, { fetch: memoryFetch });
  await auth.warm();
  results.uncached!.push(
    await timed(POOL, async (i) => {
      if (!(await auth.authenticate(`Bearer ${tokens[i]}`)).ok) throw new Error('uncached: refused');
    }),
  );
  const one = `Bearer ${tokens[0]}`;
  results.cached!.push(
    await timed(CACHED_OPS, async () => {
      if (!(await auth.authenticate(one)).ok) throw new Error('cached: refused');
    }),
  );
  if (auth.stats().keyLookups !== POOL) throw new Error(`expected ${POOL} signature checks, saw ${auth.stats().keyLookups}`);
  auth.close();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(results.baseline!);
const rows: [string, string][] = [
  ['baseline', 'bare jose jwtVerify, local key (RS256)'],
  ['uncached', 'authenticator, a fresh token each time (full checks + signature)'],
  ['cached', 'authenticator, the same token again (SHA-256 + LRU hit)'],
];
console.log(`\n### JWT verification (RS256, median of ${ROUNDS} rounds, Node ${process.version})\n`);
console.log('| case | what | verifications/s | vs baseline |');
console.log('|---|---|---:|---:|');
for (const [name, what] of rows) {
  const m = median(results[name]!);
  console.log(`| ${name} | ${what} | ${Math.round(m).toLocaleString('en-US')} | ${(m / base).toFixed(2)}x |`);
}
