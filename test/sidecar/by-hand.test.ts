/**
 * The README's "Running the sidecar by hand" block, run as written by sh against a real MCP server
 * (only its addresses are moved to free ports and the bundle path to a copy alone in a folder):
 * clients with the key list tools, the denied tool is hidden, clients without it get 401, and
 * SIGTERM exits 0.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SETTINGS } from '../../sidecar/settings.ts';
import { isolatedBundle } from '../helpers/bundle.ts';
import { startEverything, type Everything } from '../helpers/everything.ts';
import { connectClient } from '../helpers/mcp-client.ts';
import { freePort } from '../helpers/ports.ts';
import { until } from '../helpers/wait.ts';

const README = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'README.md'), 'utf8');
const block = /<!-- by-hand:start[^>]*-->\s*```sh\n([\s\S]*?)```\s*<!-- by-hand:end -->/.exec(README)?.[1];

let everything: Everything;
before(async () => {
  everything = await startEverything('streamableHttp');
});
after(async () => {
  await everything?.stop();
});

test('the block names only settings the sidecar knows', () => {
  assert.ok(block, 'README.md has the by-hand block');
  const known = new Set(Object.values(SETTINGS).map((s) => s.env));
  const named = [...block.matchAll(/export (MCP_AUTH_[A-Z0-9_]+)=/g)].map((m) => m[1]!);
  assert.ok(named.length >= 4);
  for (const n of named) assert.ok(known.has(n), `${n} is in the settings table`);
});

test('run as written: the SDK client lists tools with the key, without it gets 401, SIGTERM exits 0', async () => {
  const [port, adminPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'warden-by-hand-'));
  const script = block!
    .replace('http://127.0.0.1:3000', everything.url)
    .replace('MCP_AUTH_LISTEN_PORT=8080', `MCP_AUTH_LISTEN_PORT=${port}`)
    .replace('MCP_AUTH_ADMIN_PORT=9901', `MCP_AUTH_ADMIN_PORT=${adminPort}`)
    // The key the block generates, kept where the test can read it; then the bundle, as written.
    .replace('node dist/sidecar.mjs', `printf %s "$MCP_AUTH_KEY" > ${dir}/key; exec node ${isolatedBundle('sidecar')}`);
  assert.notEqual(script, block, 'the block was adapted');
  // PATH first has this test's Node 24, as a user's shell would have theirs.
  const child: ChildProcess = spawn('sh', ['-c', script], { env: { PATH: `${dirname(process.execPath)}:${process.env.PATH}`, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  try {
    await until(async () => (await fetch(`http://127.0.0.1:${adminPort}/readyz`).then((r) => r.status, () => 0)) === 200, `the sidecar to be ready:\n${out}`, 15_000);
    const key = readFileSync(join(dir, 'key'), 'utf8');
    assert.match(key, /^[0-9a-f]{48}$/, 'openssl made the key');
    const client = await connectClient(`http://127.0.0.1:${port}`, 'streamableHttp', { 'x-api-key': key });
    const tools = (await client.listTools()).tools.map((t) => t.name);
    await client.close();
    assert.ok(tools.includes('echo'));
    assert.ok(!tools.includes('get-env'), 'MCP_AUTH_DENY_TOOLS from the block is in force');
    const refused = await fetch(`http://127.0.0.1:${port}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(refused.status, 401);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
