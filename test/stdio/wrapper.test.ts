/**
 * The MCP container's wrapper (webhook/inject/stdio-wrapper.ts) run by /bin/sh in a pod, for what
 * the webhook cannot see inside an image: mkfifo missing, or the server's command missing. Either
 * way the container fails at once with a termination message saying why (what `kubectl describe
 * pod` shows), the bridge stays unready and says what it waits for, and nothing hangs. An image
 * without /bin/sh at all cannot be run here (no container runtime): admission refuses the known
 * shell-less families (golden stdio-no-shell) and the README names the limit.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unwrapCommand, wrapCommand } from '../../webhook/inject/stdio-wrapper.ts';
import { startStdioPod, type StdioPod } from '../helpers/stdio-pod.ts';
import { until } from '../helpers/wait.ts';

const BRIDGE = 'mcp-warden-stdio';

describe('the wrapper in a pod', () => {
  const pods: StdioPod[] = [];
  after(() => Promise.all(pods.map((p) => p.pod.stop())));

  async function failingPod(o: Parameters<typeof startStdioPod>[0]): Promise<{ p: StdioPod; message: string; code: number | null }> {
    const p = await startStdioPod(o);
    pods.push(p);
    const server = p.pod.container('server');
    server.holdRestarts();
    await until(() => server.exits.length > 0, 'the MCP container to exit');
    return { p, message: server.exits[0]!.message, code: server.exits[0]!.code };
  }

  test('an image without mkfifo: the container exits 127 and its termination message says stdio mode needs mkfifo', async () => {
    // PATH holds node only: /bin/sh runs, mkfifo is nowhere to be found.
    const { p, message, code } = await failingPod({ server: 'everything', path: (bin) => bin });
    assert.equal(code, 127);
    assert.match(message, /^mcp-warden: stdio mode needs mkfifo in the MCP container image \(coreutils or busybox\); it is not on PATH=/);
    assert.match(p.pod.container('server').output(), /stdio mode needs mkfifo/, 'the log says it too');
    assert.equal(await p.pod.probe(BRIDGE), false);
    const readyz = await (await fetch(`http://127.0.0.1:${p.config.sidecar.stdioAdminPort}/readyz`)).text();
    assert.match(readyz, /not ready: the FIFOs in \S+ do not exist yet: the MCP container has not started its wrapper \(it needs \/bin\/sh and mkfifo/);
  });

  test("the server's command is not in the image: exit 127, and the termination message names the command", async () => {
    const { p, message, code } = await failingPod({ server: 'everything', container: { command: ['mcp-server-nowhere'], args: ['--stdio'] } });
    assert.equal(code, 127);
    assert.match(message, /^mcp-warden: the MCP server command "mcp-server-nowhere" is not in the image \(PATH=.*\); fix the container command or the mcp-warden\.dev\/stdio-command annotation/);
    assert.equal(await p.pod.probe(BRIDGE), false);
  });
});

describe('the wrapper alone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-wrap-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('creates both FIFOs (mode 666, for a bridge running as another user), replaces a stale file, and execs the argv with stdio on them', () => {
    writeFileSync(join(dir, 'out'), 'a stale regular file');
    // The server here is `true`: the wrapper blocks opening the FIFOs until a peer opens them, so a
    // second sh plays the bridge: it opens `in` for writing and `out` for reading.
    const [sh, ...args] = wrapCommand(['/bin/true'], dir, join(dir, 'term'));
    const peer = `while [ ! -p "${dir}/out" ]; do sleep 0.05; done; exec 3>"${dir}/in" 4<"${dir}/out"; cat <&4`;
    const r = spawnSync('/bin/sh', ['-c', `${quoteAll([sh!, ...args])} & ${peer}; wait`], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0, r.stderr);
    for (const f of ['in', 'out']) {
      const st = statSync(join(dir, f));
      assert.ok(st.isFIFO(), `${f} is a FIFO`);
      assert.equal(st.mode & 0o777, 0o666);
    }
    assert.throws(() => readFileSync(join(dir, 'term')), /ENOENT/, 'no termination message on success');
  });

  test('unwrapCommand gives back the argv, and nothing for commands it did not write', () => {
    const argv = ['node', '/app/dist/index.js', 'stdio'];
    assert.deepEqual(unwrapCommand(wrapCommand(argv, '/d', '/t')), argv);
    assert.equal(unwrapCommand(['/bin/sh', '-c', 'echo hi']), undefined);
    assert.equal(unwrapCommand(undefined), undefined);
  });
});

function quoteAll(words: string[]): string {
  return words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
}
