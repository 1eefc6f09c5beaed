/**
 * A real redis-server per test (Debian's `redis-server` package), on a free loopback port with
 * persistence off, and redis-cli to look at what the code under test wrote. On a fresh machine the
 * packages are installed as every Debian program of the tests is (debian.ts: apt-get as root, one
 * installer at a time); otherwise the helper fails with one line naming the package.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { ensureDebianPackage } from './debian.ts';
import { freePort, stopChild, waitForPort } from './ports.ts';
import { until } from './wait.ts';

const run = promisify(execFile);

/** redis-server and redis-cli, installing Debian's packages first where they are missing. */
function ensureRedis(): { server: string; cli: string } {
  // redis-server depends on redis-tools (redis-cli), but a machine may hold one without the other.
  return { server: ensureDebianPackage('redis-server', 'redis-server'), cli: ensureDebianPackage('redis-cli', 'redis-tools') };
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
  /** redis-cli against this server; resolves with its trimmed output. */
  cli(...args: string[]): Promise<string>;
  /** SIGKILL: gone at once, with everything it held. */
  kill(): Promise<void>;
  /** Start again on the same port (empty: persistence is off). */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: the socket stays open and nothing answers. */
  pause(): void;
  resume(): void;
  /** Whether the process is stopped now (state T in /proc), as the kernel sees it. */
  paused(): boolean;
  stop(): Promise<void>;
}

export interface RedisOptions {
  /** Extra server arguments, e.g. ['--requirepass', 'pw']. */
  readonly args?: readonly string[];
  /** Password for cli(). */
  readonly password?: string;
  /** TLS: serve only TLS on the port, with these files. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string };
  /** A port chosen earlier (e.g. to start Redis after the client). */
  readonly port?: number;
}

/** Start a redis-server on loopback; close it in `after` with stop(). */
export async function startRedis(opts: RedisOptions = {}): Promise<RedisServer> {
  const bin = ensureRedis();
  const port = opts.port ?? (await freePort());
  const tlsArgs = opts.tls ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', opts.tls.cert, '--tls-key-file', opts.tls.key, '--tls-ca-cert-file', opts.tls.ca, '--tls-auth-clients', 'no'] : ['--port', String(port)];
  const args = [...tlsArgs, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', ...(opts.args ?? [])];
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(bin.server, args, { stdio: 'ignore' });
    await waitForPort(port, child);
    if (!opts.tls) {
      // The port accepts before the server has loaded; wait for an answer.
      await until(() => cli('PING').then((r) => r === 'PONG', () => false), `redis-server on ${port} to answer PING`, 10_000);
    }
  };
  const cli = async (...a: string[]): Promise<string> => {
    const auth = opts.password ? ['-a', opts.password, '--no-auth-warning'] : [];
    const tls = opts.tls ? ['--tls', '--cacert', opts.tls.ca] : [];
    const { stdout } = await run(bin.cli, ['-h', '127.0.0.1', '-p', String(port), ...tls, ...auth, ...a], { timeout: 10_000 });
    return stdout.trim();
  };
  await launch();
  return {
    port,
    url: `${opts.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    get process() {
      return child;
    },
    cli,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
    async restart() {
      await launch();
    },
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    paused() {
      // The state follows the command's name, which is in parentheses and may hold any character.
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      return stat[stat.lastIndexOf(')') + 2] === 'T';
    },
    async stop() {
      child.kill('SIGCONT');
      await stopChild(child);
    },
  };
}
