/** Annotation parsing, table-driven: each bad value with the expected text named. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANNOTATIONS, parseAnnotations, parseRate } from '../../webhook/inject/annotations.ts';
import { renamedPortName } from '../../webhook/inject/ports.ts';

test('rates: per second, minute and hour map to per minute', () => {
  const table: Array<[string, number | undefined]> = [
    ['200/min', 200], ['200', 200], ['5/s', 300], ['5 / sec', 300], ['600/h', 10], ['60/hour', 1], ['30/h', undefined], ['-1/min', undefined], ['1.5/s', undefined], ['lots', undefined], ['10/day', undefined],
  ];
  for (const [raw, want] of table) assert.equal(parseRate(raw), want, raw);
});

test('bad values: every key named with its value and expectation', () => {
  const table: Array<[string, string, RegExp]> = [
    [ANNOTATIONS.inject, 'yes please', /^"true" or "false"$/],
    [ANNOTATIONS.container, 'Server_1', /a container name/],
    [ANNOTATIONS.upstreamPort, '70000', /a port number from 1 to 65535 or a port name/],
    [ANNOTATIONS.upstreamPort, 'a--b', /port name/],
    [ANNOTATIONS.apiKeySecret, 'ns/name/key', /pod's own namespace/],
    [ANNOTATIONS.apiKeySecret, 'UPPER', /name or name\/key/],
    [ANNOTATIONS.apiKeySecret, 'keys/..', /name or name\/key/],
    [ANNOTATIONS.apiKeyHeader, 'X Key', /an HTTP header name/],
    [ANNOTATIONS.jwtIssuer, 'ftp://idp', /absolute http or https URL/],
    [ANNOTATIONS.jwtAudience, ' , ', /one or more audiences/],
    [ANNOTATIONS.resourceUrl, 'mcp.example.com', /absolute http or https URL/],
    [ANNOTATIONS.rateLimit, '0/min', /whole number from 1/],
    [ANNOTATIONS.rateLimitBurst, 'ten', /whole number/],
    [ANNOTATIONS.rateLimitPerIp, '7/h', /multiple of 60/],
    [ANNOTATIONS.dlp, 'loud', /one of "redact", "block", "off"/],
    [ANNOTATIONS.exemptPaths, '/ok,//double', /not valid: "\/\/double"/],
    [ANNOTATIONS.allowTools, 'ok,bad tool', /not valid: "bad tool"/],
    [ANNOTATIONS.config, 'a/b/c', /ConfigMap in the pod's own namespace/],
    [ANNOTATIONS.transport, 'grpc', /^"http" or "stdio"$/],
    [ANNOTATIONS.stdioCommand, 'node dist/index.js', /^a JSON array of 1 to 256 non-empty strings/],
    ['mcp-warden.dev/rate-limt', '5', /did you mean mcp-warden\.dev\/rate-limit\?/],
  ];
  for (const [key, value, re] of table) {
    const { issues } = parseAnnotations({ [key]: value }, {});
    assert.equal(issues.length, 1, `${key}=${value}: ${JSON.stringify(issues)}`);
    assert.equal(issues[0]!.setting, key);
    assert.equal(issues[0]!.value, JSON.stringify(value));
    assert.match(issues[0]!.expected, re, key);
  }
  const all = parseAnnotations(Object.fromEntries(table.filter(([k]) => k !== ANNOTATIONS.upstreamPort && k !== ANNOTATIONS.apiKeySecret).map(([k, v]) => [k, v])), {});
  assert.equal(all.issues.length, table.length - 5, 'one issue per bad key, none stops the scan');
});

test('good values become sidecar variables in the sidecar format; label and annotation opt-in', () => {
  const { options, issues } = parseAnnotations({ [ANNOTATIONS.jwtAudience]: 'a, b', [ANNOTATIONS.rateLimit]: '2/s', [ANNOTATIONS.dlp]: 'BLOCK', [ANNOTATIONS.apiKeySecret]: 'keys' }, { [ANNOTATIONS.inject]: 'true' });
  assert.deepEqual(issues, []);
  assert.equal(options.inject, 'true');
  assert.deepEqual(options.apiKeySecret, { name: 'keys', key: 'mcp-auth-key' });
  assert.deepEqual(Object.fromEntries(options.env), { MCP_AUTH_JWT_AUDIENCE: 'a,b', MCP_AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE: '120', MCP_AUTH_DLP_MODE: 'block' });
  assert.equal(parseAnnotations({ [ANNOTATIONS.inject]: 'false' }, { [ANNOTATIONS.inject]: 'true' }).options.inject, 'false', 'the annotation wins over the label');
});

test('stdio mode: transport and stdio-command parsed; an upstream port, or a command without stdio mode, refused', () => {
  const ok = parseAnnotations({ [ANNOTATIONS.transport]: ' STDIO ', [ANNOTATIONS.stdioCommand]: '["node", "dist/index.js"]' }, {});
  assert.deepEqual(ok.issues, []);
  assert.equal(ok.options.transport, 'stdio');
  assert.deepEqual(ok.options.stdioCommand, ['node', 'dist/index.js']);
  assert.equal(parseAnnotations({}, {}).options.transport, 'http');
  for (const bad of ['[]', '["node", ""]', '{"cmd": "node"}', '[1]', JSON.stringify(Array(257).fill('x'))]) {
    assert.match(parseAnnotations({ [ANNOTATIONS.transport]: 'stdio', [ANNOTATIONS.stdioCommand]: bad }, {}).issues[0]?.expected ?? '', /a JSON array/, bad);
  }
  const http = parseAnnotations({ [ANNOTATIONS.stdioCommand]: '["node"]' }, {});
  assert.deepEqual(http.issues.map((i) => [i.setting, i.expected]), [[ANNOTATIONS.stdioCommand, `unset unless ${ANNOTATIONS.transport} is "stdio"`]]);
  const port = parseAnnotations({ [ANNOTATIONS.transport]: 'stdio', [ANNOTATIONS.upstreamPort]: 'mcp' }, {});
  assert.deepEqual(port.issues.map((i) => i.setting), [ANNOTATIONS.upstreamPort]);
  assert.match(port.issues[0]!.expected, /unset when mcp-warden\.dev\/transport is "stdio"/);
});

test('renamed port names stay valid IANA_SVC_NAMEs within 15 characters and avoid taken names', () => {
  assert.equal(renamedPortName('mcp', new Set()), 'mcp-app');
  assert.equal(renamedPortName('streamable-http', new Set()), 'streamable-app');
  assert.equal(renamedPortName('abcdefghij-klmno', new Set()), 'abcdefghij-app');
  assert.equal(renamedPortName('http', new Set(['http-app'])), 'http-app2');
  assert.equal(renamedPortName('a-bcdefghij-x', new Set()), 'a-bcdefghij-app');
});
