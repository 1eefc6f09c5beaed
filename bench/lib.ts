/** Shared bench plumbing: child processes, free ports, load runs with autocannon, tables. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export { freePort, stopChild as stop, waitForPort as waitListening } from '../test/helpers/ports.ts';

export function start(cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
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
