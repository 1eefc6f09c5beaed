/**
 * Proxy overhead, side by side in one run: direct to a small upstream (1 KiB JSON-RPC responses),
 * through a minimal undici proxy (the floor for any Node proxy here: bench/minimal-proxy.mjs),
 * through the sidecar in its measured configuration (API-key auth, default DLP on the responses,
 * metrics, the per-request info log line on a stdout pipe that the bench drains as a container
 * runtime does), and through Debian's nginx as a plain reverse proxy (installed when missing), one
 * worker each. Load generator, proxies and upstream share two cores, so every figure is the better
 * of two interleaved rounds, and every goal compares figures from this one run.
 *
 * Reported: throughput at 32 connections; latency at a paced 1,000 req/s; CPU per 1,000 requests at
 * that rate (utime + stime of the proxy's own process, /proc/PID/stat); memory as a container sees
 * it (the sidecar and the minimal proxy each in a cgroup v1 memory controller with the limit the
 * webhook injects; anonymous memory from /proc/PID/smaps_rollup where no cgroup can be made);
 * startup to the first proxied 200. Then each goal of issue 11 with its ratio and whether it is met.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDebianPackage } from '../test/helpers/debian.ts';
import { DEFAULT_WEBHOOK_CONFIG } from '../webhook/config.ts';
import { anonymousBytes, cpuMs, fixedRate, freePort, load, memoryCgroup, quantityBytes, startUpstream, startupMs, stop, table, waitListening, withChildren, type LoadResult, type MemoryCgroup } from './lib.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const KEY = 'bench-key-0123456789';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RATE = 1000;
const MiB = 2 ** 20;
const resources = DEFAULT_WEBHOOK_CONFIG.sidecar.resources;
const LIMIT = quantityBytes(resources.limits?.memory ?? '256Mi');
const REQUEST = quantityBytes(resources.requests?.memory ?? '64Mi');
/**
 * V8 flags for the sidecar: those the webhook injects (NODE_OPTIONS in its default sidecar env, none
 * today), or BENCH_SIDECAR_NODE_OPTIONS to measure others.
 */
const SIDECAR_NODE_OPTIONS = process.env.BENCH_SIDECAR_NODE_OPTIONS ?? DEFAULT_WEBHOOK_CONFIG.sidecar.env.NODE_OPTIONS ?? '';

const upstreamPort = await freePort();
const upstream = startUpstream(upstreamPort);
await waitListening(upstreamPort, upstream);
const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;

/** The sidecar's environment: the measured configuration. */
const sidecarEnv = (port: number, adminPort: number): Record<string, string> => ({
  MCP_AUTH_UPSTREAM_URL: upstreamUrl,
  MCP_AUTH_KEY: KEY,
  MCP_AUTH_LISTEN_HOST: '127.0.0.1',
  MCP_AUTH_LISTEN_PORT: String(port),
  MCP_AUTH_ADMIN_PORT: String(adminPort),
  MCP_AUTH_LOG_LEVEL: 'info',
  ...(SIDECAR_NODE_OPTIONS ? { NODE_OPTIONS: SIDECAR_NODE_OPTIONS } : {}),
});

function spawnIn(cg: MemoryCgroup | undefined, cmd: string, args: string[], env: Record<string, string>, drainStdout: boolean): ChildProcess {
  const [c, a] = cg ? cg.spawnArgs(cmd, args) : [cmd, args];
  const child = spawn(c, a, { env: { ...process.env, ...env }, stdio: ['ignore', drainStdout ? 'pipe' : 'ignore', 'inherit'] });
  // The log lines go to a pipe, read and thrown away, as the container runtime reads stdout.
  child.stdout?.resume();
  return child;
}

const cgroups = new Map<string, MemoryCgroup>();
let cgroupNote = '';
for (const name of ['sidecar', 'minimal']) {
  const cg = memoryCgroup(name, LIMIT);
  if ('error' in cg) cgroupNote = cg.error;
  else cgroups.set(name, cg);
}

const sidecarPort = await freePort();
const sidecar = spawnIn(cgroups.get('sidecar'), process.execPath, [join(root, 'dist', 'sidecar.mjs')], sidecarEnv(sidecarPort, await freePort()), true);
const minimalPort = await freePort();
const minimal = spawnIn(cgroups.get('minimal'), process.execPath, [join(root, 'bench', 'minimal-proxy.mjs'), String(minimalPort), upstreamUrl], {}, false);
await waitListening(sidecarPort, sidecar);
await waitListening(minimalPort, minimal);

let nginx: ChildProcess | undefined;
let nginxPort = 0;
let nginxNote = '';
try {
  const bin = ensureDebianPackage('nginx', 'nginx');
  nginxPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  upstream u { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server { listen 127.0.0.1:${nginxPort}; location / { proxy_pass http://u; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; } } }`,
  );
  nginx = spawn(bin, ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitListening(nginxPort, nginx);
} catch (err) {
  nginxNote = `nginx left out: ${(err as Error).message}`;
}

interface Target {
  readonly name: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  /** Whose CPU time is this target's: the proxy's processes (direct: the upstream's). */
  readonly pids: () => number[];
}
const targets: Target[] = [
  { name: 'direct', url: `${upstreamUrl}/mcp`, headers: {}, pids: () => [upstream.pid!] },
  { name: 'minimal undici proxy', url: `http://127.0.0.1:${minimalPort}/mcp`, headers: {}, pids: () => [minimal.pid!] },
  { name: 'sidecar (API key)', url: `http://127.0.0.1:${sidecarPort}/mcp`, headers: { 'x-api-key': KEY }, pids: () => [sidecar.pid!] },
  ...(nginx ? [{ name: 'nginx (plain proxy)', url: `http://127.0.0.1:${nginxPort}/mcp`, headers: {}, pids: () => withChildren(nginx!.pid!) }] : []),
];
const [DIRECT, MINIMAL, SIDECAR, NGINX] = ['direct', 'minimal undici proxy', 'sidecar (API key)', 'nginx (plain proxy)'];

// Idle before any load: started and one request served.
const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
for (const t of targets) await fixedRate({ url: t.url, headers: t.headers, rate: 100, seconds: 0.1 });
await settle(1000);
const memory = (name: string, pid: number): number => cgroups.get(name)?.usageBytes() ?? anonymousBytes(pid);
const idleFresh = { sidecar: memory('sidecar', sidecar.pid!), minimal: memory('minimal', minimal.pid!) };
for (const cg of cgroups.values()) cg.resetPeak();
// Without a cgroup the peak is sampled while the load runs.
const sampledPeak = { sidecar: 0, minimal: 0 };
const sampler = setInterval(() => {
  if (cgroups.size === 2) return;
  sampledPeak.sidecar = Math.max(sampledPeak.sidecar, anonymousBytes(sidecar.pid!));
  sampledPeak.minimal = Math.max(sampledPeak.minimal, anonymousBytes(minimal.pid!));
}, 100);

type Fixed = Awaited<ReturnType<typeof fixedRate>>;
const max = new Map<string, LoadResult>();
const fixed = new Map<string, Fixed>();
const cpu = new Map<string, number>();
const totalCpu = (t: Target): number => t.pids().reduce((s, pid) => s + cpuMs(pid), 0);
for (let round = 0; round < 2; round++) {
  for (const t of targets) {
    const m = await load({ url: t.url, headers: t.headers, seconds: SECONDS, connections: 32 });
    if (!max.has(t.name) || m.rps > max.get(t.name)!.rps) max.set(t.name, m);
    const c0 = totalCpu(t);
    const f = await fixedRate({ url: t.url, headers: t.headers, rate: RATE, seconds: SECONDS });
    const perK = ((totalCpu(t) - c0) / f.sent) * 1000;
    if (!fixed.has(t.name) || f.p50 < fixed.get(t.name)!.p50) fixed.set(t.name, f);
    if (!cpu.has(t.name) || perK < cpu.get(t.name)!) cpu.set(t.name, perK);
  }
}
clearInterval(sampler);
const peak = {
  sidecar: cgroups.get('sidecar')?.peakBytes() ?? sampledPeak.sidecar,
  minimal: cgroups.get('minimal')?.peakBytes() ?? sampledPeak.minimal,
};
await settle(3000);
const idleAfter = { sidecar: memory('sidecar', sidecar.pid!), minimal: memory('minimal', minimal.pid!) };

// Startup, three times each, interleaved; the median. Each in its own cgroup, as in a pod.
const starts = { sidecar: [] as number[], minimal: [] as number[] };
for (let i = 0; i < 3; i++) {
  const sp = await freePort();
  const sa = await freePort();
  starts.sidecar.push(await startupMs(() => spawnIn(cgroups.get('sidecar'), process.execPath, [join(root, 'dist', 'sidecar.mjs')], sidecarEnv(sp, sa), true), `http://127.0.0.1:${sp}/mcp`, { 'x-api-key': KEY }));
  const mp = await freePort();
  starts.minimal.push(await startupMs(() => spawnIn(cgroups.get('minimal'), process.execPath, [join(root, 'bench', 'minimal-proxy.mjs'), String(mp), upstreamUrl], {}, false), `http://127.0.0.1:${mp}/mcp`));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

await stop(sidecar);
await stop(minimal);
if (nginx) await stop(nginx);
await stop(upstream);
for (const cg of cgroups.values()) cg.remove();

// Tables.
const d = fixed.get(DIRECT)!;
const rows = targets.map(({ name }) => {
  const m = max.get(name)!;
  const f = fixed.get(name)!;
  return [name, m.rps.toFixed(0), `${m.p50} / ${m.p99}`, `${f.p50.toFixed(3)} / ${f.p99.toFixed(3)}`, name === DIRECT ? '-' : `${(f.p50 - d.p50).toFixed(3)} / ${(f.p99 - d.p99).toFixed(3)}`, cpu.get(name)!.toFixed(0), m.errors + m.non2xx + f.errors];
});
console.log(`Upstream: 1 KiB JSON responses. Sidecar: API-key auth, DLP redact (default rules), metrics, info log line per request${SIDECAR_NODE_OPTIONS ? `, NODE_OPTIONS=${SIDECAR_NODE_OPTIONS}` : ''}.\n`);
console.log(table(['target', 'max req/s (32 conns)', 'p50 / p99 ms at max', 'p50 / p99 ms at 1,000 req/s', 'added p50 / p99 ms at 1,000 req/s', 'CPU ms per 1,000 req at 1,000 req/s', 'errors'], rows));
console.log('\n(CPU: utime + stime of the proxy process over the paced run; for direct, the upstream\'s own.)');
console.log(`\nsidecar throughput = ${((max.get(SIDECAR)!.rps / max.get(MINIMAL)!.rps) * 100).toFixed(0)}% of the minimal undici proxy`);
if (nginx) console.log(`sidecar throughput = ${((max.get(SIDECAR)!.rps / max.get(NGINX)!.rps) * 100).toFixed(0)}% of nginx (one worker each)`);
else console.log(nginxNote);

const mib = (b: number): string => (b / MiB).toFixed(1);
const how = cgroups.size === 2 ? `memory cgroup (v1), limit ${mib(LIMIT)} MiB as the webhook injects` : `anonymous memory (/proc/PID/smaps_rollup): ${cgroupNote}`;
console.log(`\nMemory, ${how}:\n`);
console.log(
  table(
    ['process', 'idle after start MiB', 'peak under load MiB', 'idle after load MiB', 'startup to first proxied 200 ms (median of 3)'],
    [
      ['minimal undici proxy', mib(idleFresh.minimal), mib(peak.minimal), mib(idleAfter.minimal), median(starts.minimal).toFixed(0)],
      ['sidecar', mib(idleFresh.sidecar), mib(peak.sidecar), mib(idleAfter.sidecar), median(starts.sidecar).toFixed(0)],
    ],
  ),
);

// The goals of issue 11, each from this run.
const yes = (ok: boolean): string => (ok ? 'met' : '**not met**');
const cpuRatio = cpu.get(SIDECAR)! / cpu.get(MINIMAL)!;
const vsMinimal = max.get(SIDECAR)!.rps / max.get(MINIMAL)!.rps;
const addedP50 = fixed.get(SIDECAR)!.p50 - d.p50;
const peakRatio = peak.sidecar / peak.minimal;
const idleGap = idleFresh.sidecar - idleFresh.minimal;
const idleAfterGap = idleAfter.sidecar - idleAfter.minimal;
const startGap = median(starts.sidecar) - median(starts.minimal);
const goals: (string | number)[][] = [
  ['CPU per request at 1,000 req/s <= 1.25x the minimal proxy', `${cpu.get(SIDECAR)!.toFixed(0)} vs ${cpu.get(MINIMAL)!.toFixed(0)} ms per 1,000`, `${cpuRatio.toFixed(2)}x`, yes(cpuRatio <= 1.25)],
  ...(nginx
    ? [(() => {
        const r = max.get(SIDECAR)!.rps / max.get(NGINX)!.rps;
        return ['throughput (32 conns) >= 0.7 of nginx', `${max.get(SIDECAR)!.rps.toFixed(0)} vs ${max.get(NGINX)!.rps.toFixed(0)} req/s`, r.toFixed(2), yes(r >= 0.7)];
      })()]
    : [['throughput (32 conns) >= 0.7 of nginx', nginxNote, '-', 'not measured']]),
  ['throughput (32 conns) >= 0.9 of the minimal proxy', `${max.get(SIDECAR)!.rps.toFixed(0)} vs ${max.get(MINIMAL)!.rps.toFixed(0)} req/s`, vsMinimal.toFixed(2), yes(vsMinimal >= 0.9)],
  ['added p50 at 1,000 req/s within 0.3 ms of direct', `${addedP50.toFixed(3)} ms (p99 ${(fixed.get(SIDECAR)!.p99 - d.p99).toFixed(3)} ms)`, '-', yes(addedP50 <= 0.3)],
  ['memory peak under load <= 1.25x the minimal proxy', `${mib(peak.sidecar)} vs ${mib(peak.minimal)} MiB`, `${peakRatio.toFixed(2)}x`, yes(peakRatio <= 1.25)],
  [`memory peak under load < the injected request (${mib(REQUEST)} MiB)`, `${mib(peak.sidecar)} MiB`, (peak.sidecar / REQUEST).toFixed(2), yes(peak.sidecar < REQUEST)],
  ['idle memory (after start) within 8 MiB of the minimal proxy', `${mib(idleFresh.sidecar)} vs ${mib(idleFresh.minimal)} MiB`, `+${mib(idleGap)} MiB`, yes(idleGap <= 8 * MiB)],
  ['idle memory (after the load) within 8 MiB of the minimal proxy', `${mib(idleAfter.sidecar)} vs ${mib(idleAfter.minimal)} MiB`, `+${mib(idleAfterGap)} MiB`, yes(idleAfterGap <= 8 * MiB)],
  ['startup to first proxied 200 within 150 ms of the minimal proxy', `${median(starts.sidecar).toFixed(0)} vs ${median(starts.minimal).toFixed(0)} ms`, `${startGap >= 0 ? '+' : ''}${startGap.toFixed(0)} ms`, yes(startGap <= 150)],
];
console.log('\nGoals (issue 11):\n');
console.log(table(['goal', 'measured', 'ratio', ''], goals));
