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

const UP = { MCP_AUTH_UPSTREAM_URL: 'http://127.0.0.1:3000' };

test('unknown MCP_AUTH_* variables: each named with a did-you-mean, reported with the other problems, values never shown', () => {
  const err = issuesOf(() =>
    load({
      ...UP,
      PATH: '/usr/bin',
      MCP_AUTH_KEYS: 'sekrit-plural',
      MCP_AUTH_DENY_TOOL: 'shell',
      MCP_AUTH_RATE_LIMT_REQUESTS_PER_MINUTE: '60',
      mcp_auth_header: 'X-Key',
      MCP_AUTH_SOMETHING_ELSE_ENTIRELY: '1',
      MCP_AUTH_LISTEN_PORT: 'eighty',
    }),
  );
  const by = new Map(err.issues.map((i) => [i.setting, i]));
  assert.deepEqual([...by.keys()].sort(), ['MCP_AUTH_DENY_TOOL', 'MCP_AUTH_KEYS', 'MCP_AUTH_LISTEN_PORT', 'MCP_AUTH_RATE_LIMT_REQUESTS_PER_MINUTE', 'MCP_AUTH_SOMETHING_ELSE_ENTIRELY', 'mcp_auth_header']);
  assert.match(err.message, /MCP_AUTH_KEYS: got set; expected no such variable: a sidecar setting \(did you mean MCP_AUTH_KEY\?\)/);
  assert.match(by.get('MCP_AUTH_DENY_TOOL')!.expected, /did you mean MCP_AUTH_DENY_TOOLS\?/);
  assert.match(by.get('MCP_AUTH_RATE_LIMT_REQUESTS_PER_MINUTE')!.expected, /did you mean MCP_AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE\?/);
  assert.match(by.get('mcp_auth_header')!.expected, /did you mean MCP_AUTH_HEADER\?/);
  assert.match(by.get('MCP_AUTH_SOMETHING_ELSE_ENTIRELY')!.expected, /see the settings table in the README/);
  assert.doesNotMatch(err.message, /sekrit-plural/);
});

test('Kubernetes service-link variables (a Service named mcp-auth) are not typos; a look-alike with another value is', () => {
  const links = {
    MCP_AUTH_SERVICE_HOST: '10.96.0.12',
    MCP_AUTH_SERVICE_PORT: '8080',
    MCP_AUTH_SERVICE_PORT_HTTP: '8080',
    MCP_AUTH_PORT: 'tcp://10.96.0.12:8080',
    MCP_AUTH_PORT_8080_TCP: 'tcp://10.96.0.12:8080',
    MCP_AUTH_PORT_8080_TCP_PROTO: 'tcp',
    MCP_AUTH_PORT_8080_TCP_PORT: '8080',
    MCP_AUTH_PORT_8080_TCP_ADDR: '10.96.0.12',
    MCP_AUTH_ADMIN_SERVICE_HOST: 'fd00::12',
  };
  assert.equal(load({ ...UP, ...links }).upstreamUrl, UP.MCP_AUTH_UPSTREAM_URL);
  const err = issuesOf(() => load({ ...UP, ...links, MCP_AUTH_PORT: '8080', MCP_AUTH_SERVICE_HOST: 'mcp.example' }));
  assert.deepEqual(err.issues.map((i) => i.setting).sort(), ['MCP_AUTH_PORT', 'MCP_AUTH_SERVICE_HOST']);
});

test('unknown config-file keys: the shallowest unknown key, with a did-you-mean; variable names point to the nested key', () => {
  const yaml = [
    'upstream: { url: "http://127.0.0.1:3000", timeoutMS: 5 }',
    'auth: { key: [k1] }',
    'rateLimit: { tool: { shell: 5 } }',
    'listen: 8080',
    'MCP_AUTH_DENY_TOOLS: shell',
    'frobnicate: true',
  ].join('\n');
  const err = issuesOf(() => load({ MCP_AUTH_CONFIG_FILE: '/c.yaml' }, { '/c.yaml': yaml }));
  const by = new Map(err.issues.map((i) => [i.setting, i.expected]));
  assert.deepEqual([...by.keys()].sort(), ['/c.yaml: MCP_AUTH_DENY_TOOLS', '/c.yaml: auth.key', '/c.yaml: frobnicate', '/c.yaml: listen', '/c.yaml: rateLimit.tool', '/c.yaml: upstream.timeoutMS']);
  assert.match(by.get('/c.yaml: upstream.timeoutMS')!, /a known setting \(did you mean upstream\.timeoutMs\?\)/);
  assert.match(by.get('/c.yaml: auth.key')!, /did you mean auth\.keys\?/);
  assert.match(by.get('/c.yaml: rateLimit.tool')!, /did you mean rateLimit\.tools\?/);
  assert.match(by.get('/c.yaml: listen')!, /^a mapping of listen\.host, listen\.port$/);
  assert.match(by.get('/c.yaml: MCP_AUTH_DENY_TOOLS')!, /did you mean tools\.deny\? the file nests keys/);
  assert.match(by.get('/c.yaml: frobnicate')!, /see the settings table/);
});

test('a credential variable set but empty is an error, not "auth off"; with none set, auth is off', () => {
  for (const value of ['', '  ', ' , ']) {
    const err = issuesOf(() => load({ ...UP, MCP_AUTH_KEY: value }));
    assert.equal(err.issues.length, 1, err.message);
    assert.equal(err.issues[0]!.setting, 'MCP_AUTH_KEY');
    assert.match(err.message, /MCP_AUTH_KEY: got (empty|<redacted>); expected one or more API keys/);
  }
  assert.match(issuesOf(() => load({ ...UP, MCP_AUTH_KEY: '' })).message, /MCP_AUTH_KEY: got empty; expected .*\(it is set but empty: give it a value, or remove it to leave it unset\)/);
  for (const v of ['MCP_AUTH_KEY_FILE', 'MCP_AUTH_JWT_ISSUER', 'MCP_AUTH_JWT_SECRET', 'MCP_AUTH_JWT_JWKS_URL']) {
    assert.deepEqual(issuesOf(() => load({ ...UP, [v]: '' })).issues.map((i) => i.setting), [v], v);
  }
  assert.equal(load(UP).auth, 'none');
});

test('every setting set to the empty string: refused naming it, or (lists) the empty list, never the default', async () => {
  const { SETTINGS } = await import('../../sidecar/settings.ts');
  for (const [key, setting] of Object.entries(SETTINGS)) {
    const env = key === 'upstreamUrl' ? { [setting.env]: '' } : { ...UP, [setting.env]: '' };
    const asList = setting.parse('');
    if (asList.ok) {
      assert.deepEqual(asList.value, [], `${setting.env}: only lists take "" as a value`);
      const c = load(env) as unknown as Record<string, unknown>;
      assert.deepEqual(c[key], [], `${setting.env}="" is the empty list`);
    } else {
      const err = issuesOf(() => load(env));
      const issue = err.issues.find((i) => i.setting === setting.env);
      assert.ok(issue, `${setting.env}="" must be refused: ${err.message}`);
      assert.equal(issue.value, 'empty');
      assert.match(issue.expected, /it is set but empty: give it a value/);
    }
  }
  assert.deepEqual(load({ ...UP, MCP_AUTH_EXEMPT_PATHS: '' }).exemptPaths, [], 'an empty list means none, not the default /health,/ready');
});

test('config file: a key present with no value, or an empty key list, is an error; so is an empty MCP_AUTH_CONFIG_FILE', () => {
  const err = issuesOf(() => load({ MCP_AUTH_CONFIG_FILE: '/c.yaml' }, { '/c.yaml': 'upstream: { url: "http://127.0.0.1:3000" }\nauth:\n  keys:\n  header:\n' }));
  assert.deepEqual(err.issues.map((i) => `${i.setting}: ${i.value}`).sort(), ['auth.header (in /c.yaml): empty', 'auth.keys (in /c.yaml): empty']);
  assert.match(err.message, /auth\.header \(in \/c\.yaml\): got empty; expected an HTTP header name \(it is set but empty: give it a value, or remove it to use the default \("X-API-Key"\)\)/);
  const none = issuesOf(() => load({ MCP_AUTH_CONFIG_FILE: '/c.yaml' }, { '/c.yaml': 'upstream: { url: "http://127.0.0.1:3000" }\nauth: { keys: [] }' }));
  assert.deepEqual(none.issues.map((i) => i.setting), ['auth.keys (in /c.yaml)']);
  assert.deepEqual(issuesOf(() => load({ ...UP, MCP_AUTH_CONFIG_FILE: ' ' })).issues.map((i) => `${i.setting}: ${i.value}`), ['MCP_AUTH_CONFIG_FILE: empty']);
});
