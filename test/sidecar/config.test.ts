import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../sidecar/config.ts';
import { ConfigError } from '../../sidecar/errors.ts';

const noFiles = (p: string): string => {
  throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
};
const load = (env: Record<string, string>, files: Record<string, string> = {}) =>
  loadConfig({ env, readFile: (p) => (p in files ? files[p]! : noFiles(p)) });

function issuesOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

test('defaults: only the upstream is required', () => {
  const c = load({ MCP_AUTH_UPSTREAM_URL: 'http://127.0.0.1:3000' });
  assert.equal(c.upstreamUrl, 'http://127.0.0.1:3000');
  assert.equal(c.listenHost, '0.0.0.0');
  assert.equal(c.listenPort, 8080);
  assert.equal(c.adminPort, 9901);
  assert.equal(c.apiKeyHeader, 'X-API-Key');
  assert.deepEqual(c.exemptPaths, ['/health', '/ready']);
  assert.deepEqual(c.allowedOrigins, []);
  assert.equal(c.upstreamTimeoutMs, 30000);
  assert.equal(c.maxBodyBytes, 4194304);
  assert.equal(c.shutdownGraceMs, 10000);
  assert.equal(c.logLevel, 'info');
  assert.equal(c.auth, 'none');
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.exemptPaths));
});

test('several bad settings are all named, with value and expectation', () => {
  const err = issuesOf(() =>
    load({ MCP_AUTH_LISTEN_PORT: '70000', MCP_AUTH_MAX_BODY_BYTES: 'lots', MCP_AUTH_EXEMPT_PATHS: '/health,/a/../b', MCP_AUTH_LOG_LEVEL: 'loud', MCP_AUTH_HEADER: 'X Key' }),
  );
  const settings = err.issues.map((i) => i.setting).sort();
  assert.deepEqual(settings, ['MCP_AUTH_EXEMPT_PATHS', 'MCP_AUTH_HEADER', 'MCP_AUTH_LISTEN_PORT', 'MCP_AUTH_LOG_LEVEL', 'MCP_AUTH_MAX_BODY_BYTES', 'MCP_AUTH_UPSTREAM_URL'].sort());
  assert.match(err.message, /MCP_AUTH_LISTEN_PORT: got "70000"; expected a TCP port from 0 to 65535/);
  assert.match(err.message, /MCP_AUTH_EXEMPT_PATHS: .*not valid: "\/a\/\.\.\/b"/);
  assert.match(err.message, /MCP_AUTH_UPSTREAM_URL: got unset; expected .*required/);
});

test('secrets are never printed in errors', () => {
  const err = issuesOf(() => load({ MCP_AUTH_UPSTREAM_URL: 'http://u:1', MCP_AUTH_KEY: 'good-key,bad key', MCP_AUTH_JWT_SECRET: 'short-secret-value' }));
  assert.doesNotMatch(err.message, /good-key|bad key|short-secret-value/);
  assert.match(err.message, /MCP_AUTH_KEY: got <redacted>/);
  assert.match(err.message, /MCP_AUTH_JWT_SECRET: got <redacted>; expected a shared secret of at least 32 bytes/);
});

test('config file: nested form, env wins, unknown keys and bad sections reported', () => {
  const yaml = [
    'upstream: { url: "http://127.0.0.1:3000" }',
    'listen: { port: 9000 }',
    'auth: { keys: [k1, k2], header: Authorization }',
    'tools:',
    '  groups:',
    '    mcp.users: { allow: [search_docs, read_file] }',
    'rateLimit:',
    '  tools: { execute_command: 10 }',
    'dlp:',
    '  patterns:',
    '    - { name: ticket, regex: "TICKET-[0-9]{6}", replace: "[TICKET]" }',
  ].join('\n');
  const c = load({ MCP_AUTH_CONFIG_FILE: '/c.yaml', MCP_AUTH_LISTEN_PORT: '9100' }, { '/c.yaml': yaml });
  assert.equal(c.listenPort, 9100, 'the variable wins over the file');
  assert.deepEqual(c.apiKeys, ['k1', 'k2']);
  assert.equal(c.auth, 'apikey');
  assert.deepEqual(c.sections['tools.groups'].get('mcp.users')?.allow, ['search_docs', 'read_file']);
  assert.deepEqual(c.sections['rateLimit.tools'].get('execute_command'), { perMinute: 10, burst: 1 });
  assert.equal(c.sections['dlp.patterns'][0]?.name, 'ticket');

  const err = issuesOf(() => load({ MCP_AUTH_CONFIG_FILE: '/c.yaml' }, { '/c.yaml': 'upstream: { url: "http://x:1", timeoutMS: 5 }\ndlp: { patterns: [ { name: bad, regex: "(" } ] }' }));
  assert.match(err.message, /upstream\.timeoutMS: got present; expected a known setting/);
  assert.match(err.message, /dlp\.patterns .*"bad"\.regex: got "\("; expected a valid regular expression/);
});

test('JWT on requires audience and resource URL; mode must match credentials', () => {
  const err = issuesOf(() => load({ MCP_AUTH_UPSTREAM_URL: 'http://u:1', MCP_AUTH_JWT_ISSUER: 'https://idp.example', MCP_AUTH_MODE: 'any' }));
  const settings = err.issues.map((i) => i.setting).sort();
  assert.deepEqual(settings, ['MCP_AUTH_JWT_AUDIENCE', 'MCP_AUTH_MODE', 'MCP_AUTH_RESOURCE_URL']);
  const c = load({ MCP_AUTH_UPSTREAM_URL: 'http://u:1', MCP_AUTH_JWT_ISSUER: 'https://idp.example', MCP_AUTH_JWT_AUDIENCE: 'mcp', MCP_AUTH_RESOURCE_URL: 'https://mcp.example/mcp' });
  assert.equal(c.auth, 'jwt');
});

test('JWT algorithms must fit the key source, reported with the other settings', () => {
  const err = issuesOf(() =>
    load({ MCP_AUTH_UPSTREAM_URL: 'http://u:1', MCP_AUTH_LISTEN_PORT: 'x', MCP_AUTH_JWT_ISSUER: 'https://idp.example', MCP_AUTH_JWT_AUDIENCE: 'mcp', MCP_AUTH_RESOURCE_URL: 'https://mcp.example/mcp', MCP_AUTH_JWT_ALGORITHMS: 'HS256' }),
  );
  assert.deepEqual(err.issues.map((i) => i.setting).sort(), ['MCP_AUTH_JWT_ALGORITHMS', 'MCP_AUTH_LISTEN_PORT']);
  assert.match(err.message, /MCP_AUTH_JWT_ALGORITHMS: got "HS256"; expected only asymmetric algorithms/);
});

test('trusted proxies: config accepts exactly what the proxy matcher can build', async () => {
  const { isCidr } = await import('../../sidecar/settings.ts');
  const { parseTrustedProxies } = await import('../../sidecar/limit/client-ip.ts');
  const builds = (s: string): boolean => {
    try {
      parseTrustedProxies([s]);
      return true;
    } catch {
      return false;
    }
  };
  // Shapes where a looser config check once let a value through that the matcher then refused.
  for (const s of ['010.0.0.1', '10.0.0.01/8', '10.0.0.0/8', 'fe80::1%eth0', 'fd00::/8', '::ffff:10.0.0.0/104', '10.0.0.0/33', '1.2.3.4/', 'x/8']) {
    assert.equal(isCidr(s), builds(s), s);
  }
  const fc = (await import('fast-check')).default;
  const part = fc.constantFrom('10', '0', '010', '255', '256', '.', ':', '::', 'ffff', 'fe80', '%eth0', '/', '8', '32', '33', '104', '128', '129');
  fc.assert(fc.property(fc.array(part, { maxLength: 9 }), (xs) => isCidr(xs.join('')) === builds(xs.join(''))), { numRuns: 3000 });
});
