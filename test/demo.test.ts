/**
 * The README's first command: `npm run demo` starts server-everything behind the sidecar with a
 * fresh key, prints a command that connects with the MCP client, and stops cleanly on Ctrl-C.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isolatedBundle } from './helpers/bundle.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

test('demo: prints a working URL, key and client command; Ctrl-C stops both processes', async () => {
  isolatedBundle('sidecar'); // builds dist/sidecar.mjs when a single test file runs without npm test
  const demo = spawn(process.execPath, [join(root, 'scripts', 'demo.mjs')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  demo.stdout.on('data', (d: Buffer) => (out += d.toString()));
  demo.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => demo.on('exit', (c) => r(c)));
  try {
    for (let i = 0; i < 600 && !out.includes('Ctrl-C stops both'); i++) await new Promise((r) => setTimeout(r, 50));
    const cmd = /node scripts\/mcp-client\.mjs (\S+) (\S+)/.exec(out);
    assert.ok(cmd, `the demo printed a client command:\n${out}`);
    const [, url, key] = cmd;
    const run = promisify(execFile);
    const ok = await run(process.execPath, [join(root, 'scripts', 'mcp-client.mjs'), url!, key!], { cwd: root });
    assert.match(ok.stdout, /tools \(\d+\): .*echo/);
    assert.match(ok.stdout, /echo -> Echo: hello through mcp-warden/);
    const refused = await fetch(url!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(refused.status, 401);
    demo.kill('SIGINT');
    assert.equal(await exited, 0);
    // Both children are gone: the port no longer answers.
    await assert.rejects(fetch(url!, { method: 'POST' }));
  } finally {
    if (demo.exitCode === null) demo.kill('SIGKILL');
  }
});
