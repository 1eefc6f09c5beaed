/**
 * Where the sidecar's CPU goes per request: the bundle (built unminified, so functions keep their
 * names) under `node --cpu-prof` at a paced rate, in the measured configuration of
 * bench/proxy.bench.ts (API-key auth, default DLP on 1 KiB JSON responses, metrics and the info
 * request log line on, stdout drained through a pipe as a container runtime does). Prints self time
 * by source module and the top functions.
 *
 * Not part of `npm run bench` (a profiler changes what it measures): run it by hand,
 * `node bench/profile.ts [rate] [seconds]` on Node 24, after `npm run build`.
 */
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixedRate, freePort, startUpstream, stop, table, waitListening } from './lib.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const RATE = Number(process.argv[2] ?? 1000);
const SECONDS = Number(process.argv[3] ?? 10);
/** `minimal` profiles bench/minimal-proxy.mjs instead, for the floor's side of the comparison. */
const TARGET = process.argv[4] ?? 'sidecar';
const KEY = 'bench-key-0123456789';

const dir = mkdtempSync(join(tmpdir(), 'warden-profile-'));
const bundle = join(dir, 'sidecar.mjs');
await build({
  entryPoints: [join(root, 'sidecar', 'main.ts')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: false,
  logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});

const upstreamPort = await freePort();
const upstream = startUpstream(upstreamPort);
await waitListening(upstreamPort, upstream);
const port = await freePort();
const profArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=250'];
const args = TARGET === 'minimal' ? [...profArgs, join(root, 'bench', 'minimal-proxy.mjs'), String(port), `http://127.0.0.1:${upstreamPort}`] : [...profArgs, bundle];
const sidecar = spawn(process.execPath, args, {
  env: {
    ...process.env,
    MCP_AUTH_UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}`,
    MCP_AUTH_KEY: KEY,
    MCP_AUTH_LISTEN_HOST: '127.0.0.1',
    MCP_AUTH_LISTEN_PORT: String(port),
    MCP_AUTH_ADMIN_PORT: String(await freePort()),
    MCP_AUTH_LOG_LEVEL: 'info',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let logBytes = 0;
sidecar.stdout.on('data', (c: Buffer) => (logBytes += c.length));
await waitListening(port, sidecar);
const url = `http://127.0.0.1:${port}/mcp`;
await fixedRate({ url, headers: { 'x-api-key': KEY }, rate: RATE, seconds: 2 }); // warm-up
// The profile's clock is CLOCK_MONOTONIC in microseconds, as process.hrtime: keep only the samples
// of the measured run (not startup, not the warm-up).
const from = Number(process.hrtime.bigint() / 1000n);
const r = await fixedRate({ url, headers: { 'x-api-key': KEY }, rate: RATE, seconds: SECONDS });
const to = Number(process.hrtime.bigint() / 1000n);
await stop(sidecar);
await stop(upstream);

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error('no .cpuprofile written');
const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

// esbuild marks each bundled module with a `// path` comment line: map bundle lines to modules.
const marks: [number, string][] = [];
readFileSync(bundle, 'utf8')
  .split('\n')
  .forEach((line, i) => {
    const m = /^\/\/ ((?:node_modules\/|sidecar\/)\S+)$/.exec(line);
    if (m) marks.push([i, m[1]!]);
  });
function moduleOf(n: Node): string {
  const { url: u, functionName } = n.callFrame;
  if (u === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (u.startsWith('node:')) return u.replace(/^node:internal\//, 'node:');
  if (u.includes('/node_modules/')) return u.slice(u.lastIndexOf('/node_modules/') + 14);
  if (u.endsWith('sidecar.mjs')) {
    let lo = 0;
    let hi = marks.length - 1;
    let best = '(bundle)';
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (marks[mid]![0] <= n.callFrame.lineNumber) {
        best = marks[mid]![1];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best.replace(/^node_modules\//, '');
  }
  return u;
}

// Self time per node from the sample timeline (exact), not hitCount x interval.
const self = new Map<number, number>();
let at = prof.startTime;
for (let i = 0; i < prof.samples.length; i++) {
  at += prof.timeDeltas[i]!;
  if (at < from || at > to) continue;
  self.set(prof.samples[i]!, (self.get(prof.samples[i]!) ?? 0) + (prof.timeDeltas[i + 1] ?? 0));
}
const byModule = new Map<string, number>();
const byFunction = new Map<string, number>();
let busy = 0;
for (const n of prof.nodes) {
  const t = self.get(n.id) ?? 0;
  if (n.callFrame.functionName === '(idle)') continue;
  busy += t;
  const mod = moduleOf(n);
  byModule.set(mod, (byModule.get(mod) ?? 0) + t);
  const fn = `${n.callFrame.functionName || '(anonymous)'} ${mod}:${n.callFrame.lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + t);
}
const requests = r.sent;
const perK = (us: number): string => ((us / 1000 / requests) * 1000).toFixed(1);
const top = (m: Map<string, number>, n: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => [k, perK(us), `${((us / busy) * 100).toFixed(1)}%`]);

console.log(`${requests} requests at ${RATE} req/s (p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms, ${r.errors} errors); ${(logBytes / 1024).toFixed(0)} KiB of log lines`);
console.log(`profiled busy time: ${perK(busy)} ms per 1,000 requests (profiler overhead included)\n`);
console.log(table(['module (self time)', 'ms / 1,000 req', 'share'], top(byModule, 30)));
console.log('');
console.log(table(['function (self time)', 'ms / 1,000 req', 'share'], top(byFunction, 40)));
console.log(`\nprofile: ${join(dir, file)}`);
