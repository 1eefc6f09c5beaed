/** Shared bench plumbing: child processes, free ports, load runs with autocannon, tables. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { stopChild } from '../test/helpers/ports.ts';

export { freePort, stopChild as stop, waitForPort as waitListening } from '../test/helpers/ports.ts';

export function start(cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
}

/**
 * A 1 KiB JSON-RPC result (a tools/call answer with one text block), the response every proxy bench
 * relays: big enough that DLP has text to scan, small enough to be the common MCP case.
 */
export const RESPONSE_1K: string = (() => {
  const head = '{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"';
  const tail = '"}],"isError":false}}';
  const words = 'the quick brown fox jumps over the lazy dog while the sidecar relays one ordinary tool result ';
  let text = '';
  while (head.length + text.length + tail.length < 1024) text += words;
  return head + text.slice(0, 1024 - head.length - tail.length) + tail;
})();

/** The upstream every proxy bench uses: a one-line Node server answering RESPONSE_1K to everything. */
export function startUpstream(port: number): ChildProcess {
  const body = JSON.stringify(RESPONSE_1K);
  return start(process.execPath, ['-e', `const b=Buffer.from(${body});require('http').createServer((q,s)=>{q.resume();s.writeHead(200,{'content-type':'application/json','content-length':b.length});s.end(b)}).listen(${port},'127.0.0.1')`]);
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time a process has used so far (utime + stime, /proc/PID/stat fields 14 and 15), in ms. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}


/** Peak resident set size of a process (Linux VmHWM), in MiB. */
export function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export interface LoadResult {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly non2xx: number;
}

export async function load(opts: { url: string; headers?: Record<string, string>; seconds: number; connections: number; rate?: number; method?: string; body?: string; idReplacement?: boolean }): Promise<LoadResult> {
  const r = await autocannon({
    url: opts.url,
    method: (opts.method ?? 'GET') as 'GET',
    headers: opts.headers,
    body: opts.body,
    ...(opts.idReplacement ? { idReplacement: true } : {}),
    duration: opts.seconds,
    connections: opts.connections,
    ...(opts.rate ? { overallRate: opts.rate } : {}),
  });
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * Open-loop load at a fixed rate with sub-millisecond latency figures (autocannon reports whole
 * milliseconds). Each request is timed from when it was due, not when it was sent, so a stalled
 * generator or server shows up in the figures instead of hiding (coordinated omission).
 */
export async function fixedRate(opts: { url: string; headers?: Record<string, string>; rate: number; seconds: number; method?: 'GET' | 'POST'; body?: (i: number) => string }): Promise<{ p50: number; p99: number; sent: number; errors: number }> {
  const { Pool } = await import('undici');
  const u = new URL(opts.url);
  const pool = new Pool(u.origin, { connections: 32, pipelining: 1 });
  const total = Math.floor(opts.rate * opts.seconds);
  const interval = 1000 / opts.rate;
  const lat: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < total; ) {
    const now = performance.now();
    while (i < total && t0 + i * interval <= now) {
      const due = t0 + i * interval;
      pending.push(
        pool.request({ method: opts.method ?? 'GET', path: u.pathname + u.search, headers: opts.headers, ...(opts.body ? { body: opts.body(i) } : {}) }).then(
          async (r) => {
            await r.body.dump();
            if (r.statusCode >= 400) errors++;
            lat.push(performance.now() - due);
          },
          () => {
            errors++;
          },
        ),
      );
      i++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(pending);
  await pool.close();
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? NaN;
  return { p50: pct(50), p99: pct(99), sent: total, errors };
}

/** A Kubernetes memory quantity (`256Mi`, `1Gi`, `500M`, plain bytes) in bytes. */
export function quantityBytes(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  if (!m) throw new Error(`not a memory quantity: ${q}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] ?? ''] ?? 1;
  return Math.round(Number(m[1]) * unit);
}

const MEMCG = '/sys/fs/cgroup/memory';

/**
 * A cgroup v1 memory controller with a limit, as a container runtime makes one for a pod's
 * container: what `usage` reports is what the limit and the OOM killer see (anonymous memory plus
 * the page cache charged to it), not host RSS (which also counts the node binary's shared pages).
 */
export interface MemoryCgroup {
  readonly path: string;
  /** Run a command inside it (the shell joins the cgroup, then execs the command). */
  spawnArgs(cmd: string, args: string[]): [string, string[]];
  usageBytes(): number;
  peakBytes(): number;
  resetPeak(): void;
  remove(): void;
}

/** A fresh memory cgroup, or why none can be made here. */
export function memoryCgroup(name: string, limitBytes: number): MemoryCgroup | { readonly error: string } {
  const path = join(MEMCG, `mcp-warden-bench-${name}-${process.pid}`);
  try {
    if (!existsSync(join(MEMCG, 'cgroup.procs'))) return { error: `no cgroup v1 memory controller at ${MEMCG}` };
    mkdirSync(path);
    writeFileSync(join(path, 'memory.limit_in_bytes'), String(limitBytes));
  } catch (err) {
    try {
      rmdirSync(path);
    } catch {
      // never made
    }
    return { error: `cannot make a memory cgroup under ${MEMCG}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  const read = (f: string): number => Number(readFileSync(join(path, f), 'utf8').trim());
  return {
    path,
    spawnArgs: (cmd, args) => ['sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', path, cmd, ...args]],
    usageBytes: () => read('memory.usage_in_bytes'),
    peakBytes: () => read('memory.max_usage_in_bytes'),
    resetPeak: () => writeFileSync(join(path, 'memory.max_usage_in_bytes'), '0'),
    remove() {
      try {
        rmdirSync(path);
      } catch {
        // a process still in it; the next run uses a fresh name
      }
    },
  };
}

/** Anonymous memory of a process (/proc/PID/smaps_rollup), in bytes: the fallback without a cgroup. */
export function anonymousBytes(pid: number): number {
  const m = /^Anonymous:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/**
 * Milliseconds from spawning a proxy to its first proxied 200: the time a pod waits before the
 * sidecar serves (and before a readiness probe through it could pass). Polls every 2 ms.
 */
export async function startupMs(spawnIt: () => ChildProcess, url: string, headers: Record<string, string> = {}): Promise<number> {
  const { request } = await import('undici');
  const t0 = performance.now();
  const child = spawnIt();
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before answering`);
      if (performance.now() - t0 > 20_000) throw new Error(`no 200 from ${url} within 20 s`);
      const ok = await request(url, { headers, reset: true }).then(
        async (r) => {
          await r.body.dump();
          return r.statusCode === 200;
        },
        () => false,
      );
      if (ok) return performance.now() - t0;
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    await stopChild(child);
  }
}

/** Pids of a process and its children (nginx: the master and its workers). */
export function withChildren(pid: number): number[] {
  try {
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return [pid, ...kids];
  } catch {
    return [pid];
  }
}
