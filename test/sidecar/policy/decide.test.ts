import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Identity } from '../../../sidecar/context.ts';
import { parseToolGroups } from '../../../sidecar/policy/groups.ts';
import { compilePolicy, decideTool } from '../../../sidecar/policy/tools.ts';

function policy(allowTools: string[], denyTools: string[], groups: Record<string, { allow?: string[]; deny?: string[] }> = {}) {
  const parsed = parseToolGroups(groups, 'tools.groups');
  assert.deepEqual(parsed.issues, []);
  return compilePolicy({ allowTools, denyTools, sections: { 'tools.groups': parsed.value } });
}
const jwt = (...groups: string[]): Identity => ({ kind: 'jwt', id: 'jwt:abc', subject: 'alice', groups, scopes: [] });
const key: Identity = { kind: 'apikey', id: 'key:0123456789ab', groups: [], scopes: [] };

const GROUPS = {
  'mcp.users': { allow: ['search_docs', 'read_file'] },
  'mcp.power_users': { allow: ['search_docs', 'read_file', 'write_file'] },
  'mcp.admins': { allow: ['*'], deny: ['drop_db'] },
  'mcp.readonly': { allow: ['read_file'], deny: ['search_docs'] },
  'mcp.nothing': { deny: ['x'] },
};

// [case, allowTools, denyTools, identity, tool, expected]
const TABLE: [string, string[], string[], Identity | undefined, string, 'allow' | 'deny'][] = [
  ['empty lists allow everything', [], [], undefined, 'anything', 'allow'],
  ['empty lists, API key', [], [], key, 'write_file', 'allow'],
  ['global allow list admits a listed tool', ['echo', 'get-sum'], [], key, 'echo', 'allow'],
  ['global allow list refuses an unlisted tool', ['echo', 'get-sum'], [], key, 'get-env', 'deny'],
  ['names compare case-sensitively', ['echo'], [], key, 'Echo', 'deny'],
  ['* in the global allow list allows all', ['*'], [], key, 'whatever', 'allow'],
  ['global deny refuses', [], ['get-env'], key, 'get-env', 'deny'],
  ['global deny leaves others allowed', [], ['get-env'], key, 'echo', 'allow'],
  ['deny wins over allow of the same name', ['get-env'], ['get-env'], key, 'get-env', 'deny'],
  ['deny wins over *', ['*'], ['get-env'], key, 'get-env', 'deny'],
  ['no identity uses the global lists', ['echo'], [], undefined, 'get-env', 'deny'],
  ['group rule allows its tools', ['nothing_else'], [], jwt('mcp.users'), 'read_file', 'allow'],
  ['group rule refuses the rest, even if globally open', [], [], jwt('mcp.users'), 'write_file', 'deny'],
  ['group rule replaces (can widen) the global allow list', ['echo'], [], jwt('mcp.power_users'), 'write_file', 'allow'],
  ['group rule: global allow not consulted', ['echo'], [], jwt('mcp.users'), 'echo', 'deny'],
  ['union of two groups', [], [], jwt('mcp.users', 'mcp.power_users'), 'write_file', 'allow'],
  ['global deny wins over a group allow', [], ['write_file'], jwt('mcp.power_users'), 'write_file', 'deny'],
  ['global deny wins over a group *', [], ['rm'], jwt('mcp.admins'), 'rm', 'deny'],
  ['group * allows anything not denied', [], [], jwt('mcp.admins'), 'whatever', 'allow'],
  ['group deny refuses within its own *', [], [], jwt('mcp.admins'), 'drop_db', 'deny'],
  ['a group deny wins over another group allow', [], [], jwt('mcp.users', 'mcp.readonly'), 'search_docs', 'deny'],
  ['a group deny wins over another group *', [], [], jwt('mcp.admins', 'mcp.readonly'), 'search_docs', 'deny'],
  ['group with only a deny list allows nothing', [], [], jwt('mcp.nothing'), 'echo', 'deny'],
  ['unknown groups fall back to the global list', ['echo'], [], jwt('other', 'more'), 'echo', 'allow'],
  ['unknown groups fall back to the global list (refuse)', ['echo'], [], jwt('other'), 'get-env', 'deny'],
  ['known and unknown groups: the known one applies', ['echo'], [], jwt('other', 'mcp.users'), 'echo', 'deny'],
  ['API keys carry no groups: global list', ['echo'], [], key, 'read_file', 'deny'],
  ['group names compare case-sensitively (MCP.USERS has no rule: global list)', [], [], jwt('MCP.USERS'), 'write_file', 'allow'],
];

for (const [name, allow, deny, identity, tool, expected] of TABLE) {
  test(`decideTool: ${name}`, () => {
    assert.equal(decideTool(policy(allow, deny, GROUPS), identity, tool), expected);
  });
}

test('compilePolicy: open only when nothing restricts; named collects every configured name but *', () => {
  assert.equal(policy([], []).open, true);
  assert.equal(policy(['*'], []).open, true);
  assert.equal(policy(['echo'], []).open, false);
  assert.equal(policy([], ['x']).open, false);
  const p = policy(['echo', '*'], ['get-env'], GROUPS);
  assert.equal(p.open, false);
  assert.deepEqual([...p.named].sort(), ['drop_db', 'echo', 'get-env', 'read_file', 'search_docs', 'write_file', 'x']);
  assert.ok(Object.isFrozen(p));
});
