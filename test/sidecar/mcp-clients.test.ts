/**
 * Real MCP clients operators reach for first, through the sidecar in API-key mode in front of the
 * real server-everything: the MCP Inspector CLI (`--cli`) and mcp-remote (the stdio bridge that
 * desktop clients run). With the right key they list the tools; with a wrong key they must stop
 * by themselves with a message naming the key header, not wait for an OAuth sign-in that an
 * API-key server can never complete. Each child is bounded by a generous kill timeout, which
 * the test reports as a failure.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { runNode, type ProcessResult } from '../helpers/run-node.ts';
import { useMcpStack } from '../helpers/stack.ts';

const require = createRequire(import.meta.url);
const binOf = (pkg: string, bin: string): string => {
  const manifest = require(`${pkg}/package.json`) as { bin: Record<string, string> };
  return join(dirname(require.resolve(`${pkg}/package.json`)), manifest.bin[bin]!);
};
const INSPECTOR = binOf('@modelcontextprotocol/inspector', 'mcp-inspector');
const MCP_REMOTE = binOf('mcp-remote', 'mcp-remote');

const KEY = 'clients-key-0a1b2c3d4e5f';
/** What a client must show a user with a wrong key (the sidecar's 404 on the OAuth endpoints). */
const HINT = /This server does not use OAuth; send the API key in the X-API-Key header/;
const KILL_AFTER_MS = 45_000;

/** Run a client to its end; stdin stays open, so an exit is the client's own decision. */
const run = (args: string[], env: Record<string, string>): Promise<ProcessResult> => runNode(args, { env, replaceEnv: true, keepStdinOpen: true, killAfterMs: KILL_AFTER_MS });

describe('MCP Inspector CLI and mcp-remote through the sidecar (API key)', () => {
  const stack = useMcpStack('streamableHttp', { MCP_AUTH_KEY: KEY });
  let home: string;
  let env: Record<string, string>;
  before(() => {
    // Each client keeps state under HOME (mcp-remote's ~/.mcp-auth, the Inspector's catalog and
    // secrets): a fresh one per run, so no earlier run's tokens or locks matter.
    home = mkdtempSync(join(tmpdir(), 'warden-clients-'));
    env = { PATH: process.env.PATH ?? '', HOME: home, MCP_INSPECTOR_SECRET_STORE: 'memory' };
  });
  after(() => rmSync(home, { recursive: true, force: true }));
  const url = (): string => `${stack.sidecar.url}/mcp`;
  const inspector = (key: string, extra: Record<string, string> = {}): Promise<ProcessResult> =>
    run([INSPECTOR, '--cli', url(), '--transport', 'http', '--method', 'tools/list', '--header', `X-API-Key: ${key}`, '--format', 'json'], { ...env, ...extra });

  test('Inspector CLI, right key: lists the tools', async () => {
    const r = await inspector(KEY);
    assert.equal(r.killed, false, 'the Inspector must finish by itself');
    assert.equal(r.code, 0, r.stderr);
    const names = (JSON.parse(r.stdout) as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name);
    assert.ok(names.includes('echo'), names.join(', '));
  });

  test('Inspector CLI, wrong key, a person at the terminal (interactive OAuth allowed): stops at once naming the header', async () => {
    // MCP_AUTO_OPEN_ENABLED stands in for a TTY: the Inspector then tries OAuth as it would for a user.
    const r = await inspector('wrong-key', { MCP_AUTO_OPEN_ENABLED: 'true' });
    assert.equal(r.killed, false, `the Inspector waited ${KILL_AFTER_MS} ms for an authorization: ${r.stderr}`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, HINT);
  });

  test('Inspector CLI, wrong key, no terminal (CI): auth_required, exit 3', async () => {
    const r = await inspector('wrong-key');
    assert.equal(r.killed, false);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /"code":"auth_required"/);
  });

  test('mcp-remote, right key: an MCP client on its stdio lists the tools', async () => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [MCP_REMOTE, url(), '--header', `X-API-Key:${KEY}`, '--transport', 'http-only'], env, stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: 'mcp-warden-test', version: '1.0.0' });
    try {
      await client.connect(transport);
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'echo'), `${tools.map((t) => t.name).join(', ')}\n${stderr}`);
    } finally {
      await client.close();
    }
    assert.doesNotMatch(stderr, /Waiting for authorization/);
  });

  test('mcp-remote, wrong key: exits by itself naming the header, never waits for a browser sign-in', async () => {
    const r = await run([MCP_REMOTE, url(), '--header', 'X-API-Key:wrong-key', '--transport', 'http-only'], env);
    assert.equal(r.killed, false, `mcp-remote waited ${KILL_AFTER_MS} ms:\n${r.stderr.slice(-2000)}`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, HINT);
    assert.doesNotMatch(r.stderr, /Waiting for authorization/);
  });
});
