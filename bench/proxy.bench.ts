/**
 * Proxy overhead: requests/s and latency p50/p99 direct to a small upstream, through a minimal
 * undici proxy (the floor for any Node proxy here: bench/minimal-proxy.mjs), through the sidecar
 * with API-key auth on, and through nginx as a plain reverse proxy when nginx is installed
 * (`apt-get install nginx-light`), one worker each; plus the sidecar's peak RSS. Each target is
 * measured twice, interleaved, and the better run kept, because load generator, proxy and upstream
 * share two cores here.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixedRate, freePort, load, peakRssMiB, start, stop, table, waitListening, type LoadResult } from './lib.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const KEY = 'bench-key-0123456789';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);

const upstreamPort = await freePort();
const upstream = start(process.execPath, ['-e', `require('http').createServer((q,s)=>{s.writeHead(200,{'content-type':'application/json'});s.end('{"jsonrpc":"2.0","id":1,"result":{}}')}).listen(${upstreamPort},'127.0.0.1')`]);
await waitListening(upstreamPort, upstream);

/** The bundle as the image runs it, with API-key auth on, listening on a fresh port. */
async function startSidecar(nodeFlags: string[] = []) {
  const port = await freePort();
  const child = start(process.execPath, [...nodeFlags, join(root, 'dist', 'sidecar.mjs')], {
    MCP_AUTH_UPSTREAM_URL: `http://127.0.0.1:${upstreamPort}`,
    MCP_AUTH_KEY: KEY,
    MCP_AUTH_LISTEN_HOST: '127.0.0.1',
    MCP_AUTH_LISTEN_PORT: String(port),
    MCP_AUTH_ADMIN_PORT: String(await freePort()),
    MCP_AUTH_LOG_LEVEL: 'warn',
  });
  await waitListening(port, child);
  return { child, port };
}
const { child: sidecar, port: sidecarPort } = await startSidecar();

// Baseline: what any Node proxy built on undici costs here, before the sidecar's own work.
const minimalPort = await freePort();
const minimal = start(process.execPath, [join(root, 'bench', 'minimal-proxy.mjs'), String(minimalPort), `http://127.0.0.1:${upstreamPort}`]);
await waitListening(minimalPort, minimal);

let nginx: ReturnType<typeof start> | undefined;
let nginxPort = 0;
let nginxNote = '';
try {
  execFileSync('nginx', ['-v'], { stdio: 'ignore' });
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
  nginx = start('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir]);
  await waitListening(nginxPort, nginx);
} catch {
  nginxNote = 'nginx not installed: `apt-get install nginx-light` (Debian) adds the nginx column.';
}

const targets: [string, string, Record<string, string>][] = [
  ['direct', `http://127.0.0.1:${upstreamPort}/mcp`, {}],
  ['minimal undici proxy', `http://127.0.0.1:${minimalPort}/mcp`, {}],
  ['sidecar (API key)', `http://127.0.0.1:${sidecarPort}/mcp`, { 'x-api-key': KEY }],
  ...(nginx ? [['nginx (plain proxy)', `http://127.0.0.1:${nginxPort}/mcp`, {}] as [string, string, Record<string, string>]] : []),
];

type Fixed = Awaited<ReturnType<typeof fixedRate>>;
const max = new Map<string, LoadResult>();
const fixed = new Map<string, Fixed>();
for (let round = 0; round < 2; round++) {
  for (const [name, url, headers] of targets) {
    const m = await load({ url, headers, seconds: SECONDS, connections: 32 });
    if (!max.has(name) || m.rps > max.get(name)!.rps) max.set(name, m);
    const f = await fixedRate({ url, headers, rate: 1000, seconds: SECONDS });
    if (!fixed.has(name) || f.p50 < fixed.get(name)!.p50) fixed.set(name, f);
  }
}

const d = fixed.get('direct')!;
const rows = targets.map(([name]) => {
  const m = max.get(name)!;
  const f = fixed.get(name)!;
  return [name, m.rps.toFixed(0), `${m.p50} / ${m.p99}`, `${f.p50.toFixed(3)} / ${f.p99.toFixed(3)}`, name === 'direct' ? '-' : `${(f.p50 - d.p50).toFixed(3)}`, m.errors + m.non2xx + f.errors];
});
console.log(table(['target', 'max req/s (32 conns)', 'p50 / p99 ms at max', 'p50 / p99 ms at 1,000 req/s', 'added p50 ms at 1,000 req/s', 'errors'], rows));
console.log(`\nsidecar throughput = ${((max.get('sidecar (API key)')!.rps / max.get('minimal undici proxy')!.rps) * 100).toFixed(0)}% of the minimal undici proxy`);
if (nginx) {
  const ratio = max.get('sidecar (API key)')!.rps / max.get('nginx (plain proxy)')!.rps;
  console.log(`\nsidecar throughput = ${(ratio * 100).toFixed(0)}% of nginx (one worker each)`);
} else console.log(`\n${nginxNote}`);
console.log(`sidecar peak RSS: ${peakRssMiB(sidecar.pid!).toFixed(1)} MiB (default V8 flags: the young generation is sized from host memory)`);

// In a container with a memory limit V8 sizes its young generation from the limit; on a 24 GiB host
// it takes up to 128 MiB. The same load against a sidecar with the young generation capped shows
// what the sidecar itself needs.
const { child: capped, port: cappedPort } = await startSidecar(['--max-semi-space-size=4']);
const c = await load({ url: `http://127.0.0.1:${cappedPort}/mcp`, headers: { 'x-api-key': KEY }, seconds: SECONDS, connections: 32 });
console.log(`sidecar peak RSS with --max-semi-space-size=4: ${peakRssMiB(capped.pid!).toFixed(1)} MiB at ${c.rps.toFixed(0)} req/s`);
await stop(capped);

await stop(sidecar);
await stop(minimal);
if (nginx) await stop(nginx);
await stop(upstream);
