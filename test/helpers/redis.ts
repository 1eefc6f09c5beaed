/**
 * A real redis-server per test (Debian's `redis-server` package), on a free loopback port with
 * persistence off, and redis-cli to look at what the code under test wrote. On a fresh machine the
 * package is installed with apt-get when running as root; otherwise the helper fails with one line
 * naming the package.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { freePort, stopChild, waitForPort } from './ports.ts';

const run = promisify(execFile);
const SERVER = '/usr/bin/redis-server';
const CLI = '/usr/bin/redis-cli';

let installed = false;

/** Make sure redis-server and redis-cli exist; install Debian's package once when they do not. */
export function ensureRedis(): void {
  if (installed || (existsSync(SERVER) && existsSync(CLI))) {
    installed = true;
    return;
  }
  const canInstall = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  if (!canInstall) throw new Error('redis-server is missing: install the Debian package redis-server (apt-get install redis-server)');
  const apt = (args: string[]): boolean => {
    try {
      execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
      return true;
    } catch {
      return false;
    }
  };
  const present = () => existsSync(SERVER) && existsSync(CLI);
  const install = () => apt(['install', '-y', '--no-install-recommends', 'redis-server']);
  // A fresh machine may have no package lists yet; and the test runner starts several files at
  // once, so another process may hold apt's locks while it installs the same package.
  if (!install() && !present() && !(apt(['update']) && install())) {
    const until = Date.now() + 300_000;
    while (!present() && Date.now() < until) execFileSync('sleep', ['2']);
  }
  if (!present()) throw new Error('redis-server is missing and apt-get install redis-server failed: install the Debian package redis-server');
  installed = true;
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
  ensureRedis();
  const port = opts.port ?? (await freePort());
  const tlsArgs = opts.tls ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', opts.tls.cert, '--tls-key-file', opts.tls.key, '--tls-ca-cert-file', opts.tls.ca, '--tls-auth-clients', 'no'] : ['--port', String(port)];
  const args = [...tlsArgs, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no', ...(opts.args ?? [])];
  let child: ChildProcess;
  const launch = async () => {
    child = spawn(SERVER, args, { stdio: 'ignore' });
    await waitForPort(port, child);
    if (!opts.tls) {
      // The port accepts before the server has loaded; wait for an answer.
      for (let i = 0; i < 100; i++) {
        try {
          if ((await cli('PING')) === 'PONG') return;
        } catch {
          /* not yet */
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const cli = async (...a: string[]): Promise<string> => {
    const auth = opts.password ? ['-a', opts.password, '--no-auth-warning'] : [];
    const tls = opts.tls ? ['--tls', '--cacert', opts.tls.ca] : [];
    const { stdout } = await run(CLI, ['-h', '127.0.0.1', '-p', String(port), ...tls, ...auth, ...a], { timeout: 10_000 });
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
    async stop() {
      child.kill('SIGCONT');
      await stopChild(child);
    },
  };
}
