/**
 * The one process runner: a hang is killed at its bound and reported as killed, even when the
 * child's own child still holds the pipes; stdin can stay open; the environment can be replaced.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCommand, runNode } from './run-node.ts';

test('a child that does not end is killed after killAfterMs, and the result says so', async () => {
  // The shell's background sleep inherits stdout and stderr and outlives the killed shell: were the
  // runner to wait for the pipes to close, it would wait past the test's own timeout.
  const r = await runCommand('sh', ['-c', 'sleep 600 & echo $!; wait'], { killAfterMs: 300 });
  process.kill(Number(r.stdout), 'SIGKILL');
  assert.deepEqual([r.killed, r.code], [true, null]);
  const done = await runNode(['-e', 'process.stdout.write("x"); process.stderr.write("y"); process.exitCode = 3'], { killAfterMs: 30_000 });
  assert.deepEqual(done, { code: 3, stdout: 'x', stderr: 'y', killed: false });
});

test('stdin: written and closed, or left open so the child decides when to end', async () => {
  const echo = 'process.stdin.pipe(process.stdout)';
  assert.equal((await runNode(['-e', echo], { stdin: 'in' })).stdout, 'in');
  const open = await runNode(['-e', echo], { keepStdinOpen: true, killAfterMs: 300 });
  assert.equal(open.killed, true, 'without EOF the child waits on its stdin');
});

test("env is added to this process's environment, or with replaceEnv is the whole of it", async () => {
  const show = ['-e', 'console.log(JSON.stringify([process.env.A, process.env.PATH !== undefined]))'];
  assert.equal((await runNode(show, { env: { A: '1' } })).stdout, '["1",true]\n');
  assert.equal((await runNode(show, { env: { A: '2' }, replaceEnv: true })).stdout, '["2",false]\n');
});
