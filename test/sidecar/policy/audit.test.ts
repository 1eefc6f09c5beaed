import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { auditRecord, AUDIT_MAX_FIELD } from '../../../sidecar/policy/audit.ts';
import { parseJsonRpc } from '../../../sidecar/policy/jsonrpc.ts';
import { compilePolicy } from '../../../sidecar/policy/tools.ts';
import { createToolLabeler } from '../../../sidecar/policy/labels.ts';

const base = { time: 0, clientIp: '127.0.0.1', decision: 'allow' as const, status: 200, aborted: false, durationMs: 1.23456 };
const parsedCall = (body: unknown) => {
  const r = parseJsonRpc(Buffer.from(JSON.stringify(body)), 'application/json');
  assert.ok(r.ok);
  return r.calls[0]!;
};

test('property: no argument value, however nested, appears in the audit record', () => {
  const secret = fc.string({ minLength: 12, maxLength: 40 }).map((s) => `SECRET${s}`);
  fc.assert(
    fc.property(secret, fc.constantFrom('flat', 'nested', 'array', 'key'), (s, where) => {
      const args = where === 'flat' ? { token: s } : where === 'nested' ? { a: { b: [1, { c: s }] } } : where === 'array' ? { list: ['x', s] } : { [s]: 1 };
      const call = parsedCall({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: args } });
      const line = JSON.stringify(auditRecord({ ...base, identity: undefined, call }));
      assert.ok(!line.includes(s), line);
      assert.ok(!line.includes(JSON.stringify(s).slice(1, -1)));
      assert.match(line, /"argsSha256":"[0-9a-f]{64}","argsBytes":\d+/);
    }),
    { numRuns: 300 },
  );
});

test('the same arguments in another key order hash the same; different arguments do not', () => {
  const h = (args: unknown) => parsedCall({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: args } }).argsSha256;
  assert.equal(h({ a: 1, b: [2, 3] }), h({ b: [2, 3], a: 1 }));
  assert.notEqual(h({ a: 1 }), h({ a: 2 }));
  // No arguments hash as {} (what the server sees).
  assert.equal(h(undefined), h({}));
});

test('fields: subject first, then the identity id, else anonymous; client strings are cut; aborted flagged', () => {
  const call = parsedCall({ jsonrpc: '2.0', id: 'r'.repeat(500), method: 'tools/call', params: { name: 't'.repeat(500) } });
  const r = auditRecord({ ...base, identity: { kind: 'jwt', id: 'jwt:1', subject: 'alice', groups: [], scopes: [] }, call, aborted: true, status: 0 });
  assert.equal(r.identity, 'alice');
  assert.equal(r.tool, `${'t'.repeat(AUDIT_MAX_FIELD)}...`);
  assert.equal(r.rpcId, `${'r'.repeat(AUDIT_MAX_FIELD)}...`);
  assert.equal(r.aborted, true);
  assert.equal(r.durationMs, 1.235);
  assert.equal(r.startTime, '1970-01-01T00:00:00.000Z');
  assert.equal(auditRecord({ ...base, identity: { kind: 'apikey', id: 'key:ab', groups: [], scopes: [] }, call: undefined }).identity, 'key:ab');
  const anon = auditRecord({ ...base, identity: undefined, call: undefined, decision: 'deny', reason: 'ERR_BAD_REQUEST' });
  assert.deepEqual(anon, { startTime: '1970-01-01T00:00:00.000Z', identity: 'anonymous', identityKind: 'none', clientIp: '127.0.0.1', method: null, decision: 'deny', reason: 'ERR_BAD_REQUEST', status: 200, durationMs: 1.235 });
});

test('createToolLabeler: validates its bound; reserved and odd names go to other', () => {
  const p = compilePolicy({ allowTools: [], denyTools: ['other'], sections: { 'tools.groups': new Map() } });
  assert.throws(() => createToolLabeler(p, -1), /max must be a whole number >= 0; got -1/);
  const label = createToolLabeler(p, 1);
  assert.equal(label('other'), 'other');
  assert.equal(label(undefined), 'invalid');
  assert.equal(label('invalid'), 'other');
  assert.equal(label('a b'), 'other');
  assert.equal(label('x'.repeat(129)), 'other');
  assert.equal(label('first'), 'first');
  assert.equal(label('second'), 'other');
  assert.equal(label('first'), 'first');
});
