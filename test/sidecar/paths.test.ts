/**
 * Acceptance 3: path shapes that try to reach a protected path through an exemption. None may reach
 * the upstream without a key: each is refused (400) or treated as protected (401).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startUpstream, type Upstream } from '../helpers/upstream.ts';
import { startSidecar, type RunningSidecar } from '../helpers/sidecar.ts';
import { rawRequest } from '../helpers/raw-http.ts';
import { parseTarget, createExemptMatcher } from '../../sidecar/paths.ts';

const BYPASS_SHAPES: [method: string, target: string][] = [
  ['GET', '/health/../mcp'],
  ['GET', '/health/%2e%2e/mcp'],
  ['GET', '/health/%2E%2E/mcp'],
  ['GET', '/health%2F..%2Fmcp'],
  ['GET', '/health%2fmcp'],
  ['GET', '/health/%2e%2e%2fmcp'],
  ['GET', '//health'],
  ['GET', '/health//'],
  ['GET', '/health/'],
  ['GET', '/./health'],
  ['GET', '/health/.'],
  ['GET', '/health.'],
  ['GET', '/health;/../mcp'],
  ['GET', '/health;x=1'],
  ['GET', '/health%3Bx'],
  ['GET', '/mcp;/health'],
  ['GET', '/health%00'],
  ['GET', '/health%00/../mcp'],
  ['GET', '/health\\..\\mcp'],
  ['GET', '/health%5c..%5cmcp'],
  ['GET', '/HEALTH'],
  ['GET', '/Health'],
  ['GET', '/health%20'],
  ['GET', '/he%61lth'],
  ['GET', '/%68ealth'],
  ['GET', '/health%2'],
  ['GET', '/health#/../mcp'],
  ['GET', 'http://localhost/health'],
  ['GET', '/mcp/../health'],
  ['GET', '/ready/..;/mcp'],
  ['GET', '/health%252e%252e/mcp'],
  ['POST', '/health'],
  ['PUT', '/health'],
  ['DELETE', '/health'],
  ['OPTIONS', '/health'],
];

describe('exempt paths', () => {
  let up: Upstream;
  let sc: RunningSidecar;
  before(async () => {
    up = await startUpstream();
    sc = await startSidecar({ MCP_AUTH_UPSTREAM_URL: up.url, MCP_AUTH_KEY: 'exempt-test-key-123' });
  });
  after(async () => {
    await sc.close();
    await up.close();
  });

  test(`${BYPASS_SHAPES.length} bypass shapes: none reaches the upstream without a key`, async () => {
    for (const [method, target] of BYPASS_SHAPES) {
      const res = await rawRequest(sc.url, `${method} ${target} HTTP/1.1\r\nHost: sidecar\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      assert.ok(res.status === 400 || res.status === 401, `${method} ${target} -> ${res.status}`);
    }
    assert.deepEqual(up.seen, [], 'the upstream saw nothing');
  });

  test('the exempt paths themselves: GET and HEAD pass without a key and reach the upstream', async () => {
    for (const [method, path] of [['GET', '/health'], ['HEAD', '/health'], ['GET', '/ready'], ['GET', '/health?probe=1']] as const) {
      const res = await fetch(`${sc.url}${path}`, { method });
      assert.equal(res.status, 200, `${method} ${path}`);
      assert.equal(up.seen.at(-1)!.url, path);
    }
  });

  test('property: the path is never rewritten, so only the exact configured bytes are exempt', () => {
    const exempt = createExemptMatcher(['/health', '/ready']);
    const piece = fc.constantFrom('/', '.', '..', '%2e', '%2f', '%5c', ';', '\\', '%00', 'health', 'ready', 'mcp', '%68', 'H', '//', '?', '#', '%');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (parts) => {
        const raw = `/${parts.join('')}`;
        const t = parseTarget(raw);
        if (!t.ok) return;
        // Nothing is decoded or normalised: what is matched (and forwarded) is the raw path.
        const rawPath = raw.split('?')[0]!;
        assert.equal(t.path, rawPath);
        assert.equal(exempt('GET', t.path), rawPath === '/health' || rawPath === '/ready', raw);
      }),
      { numRuns: 2000 },
    );
  });
});
