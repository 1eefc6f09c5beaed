/**
 * Admission latency over HTTPS on loopback: POST /mutate with a real AdmissionReview at a fixed
 * open-loop rate (100 requests/s) for ~10 s, against a baseline fastify HTTPS route in the same
 * server process that only parses and echoes the same body. Requests alternate between the two so
 * machine noise hits both alike. Aim: p99 of /mutate under 5 ms.
 *
 *   node bench/admission.bench.ts [seconds] [rate]
 */
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:https';
import { fileURLToPath } from 'node:url';
import { review as reviewBody } from '../webhook/admission.ts';
import { buildApp } from '../webhook/app.ts';
import { DEFAULT_WEBHOOK_CONFIG } from '../webhook/config.ts';
import { generateCaAndCert, serviceDnsNames } from '../webhook/tls/generate.ts';

const SNI = 'mcp-warden-webhook.mcp-warden.svc';

async function serve(): Promise<void> {
  const tls = generateCaAndCert({ dnsNames: serviceDnsNames('mcp-warden-webhook', 'mcp-warden'), validityDays: 1, now: new Date() });
  const app = buildApp(DEFAULT_WEBHOOK_CONFIG, { nativeSidecar: true, namespace: 'mcp-warden', https: tls });
  app.post('/echo', async (req) => req.body);
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`${JSON.stringify({ port: (app.server.address() as { port: number }).port, ca: tls.ca })}\n`);
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

function review(i: number): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'apps',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:authenticated'] },
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { generateName: 'mcp-7c9d8-', namespace: 'apps', labels: { app: 'mcp' }, annotations: { 'mcp-warden.dev/inject': 'true', 'mcp-warden.dev/apikey-secret': 'mcp-keys', 'mcp-warden.dev/rate-limit': '200/min' } },
        spec: { containers: [{ name: 'server', image: 'example/mcp:1', ports: [{ name: 'mcp', containerPort: 3000 }], readinessProbe: { httpGet: { path: '/health', port: 'mcp' } } }] },
      },
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  });
}

/** Milliseconds from `due` (default: now) to the end of the response. */
function post(agent: Agent, port: number, path: string, body: string, due = performance.now()): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, servername: SNI, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - due) : reject(new Error(`${path}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 10);
  const rate = Number(process.argv[3] ?? 100);
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const info = await new Promise<{ port: number; ca: string }>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c;
      if (buf.includes('\n')) resolve(JSON.parse(buf.split('\n')[0]!));
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const agent = new Agent({ keepAlive: true, ca: info.ca, maxSockets: 16 });
  const bodies = Array.from({ length: 64 }, (_, i) => review(i));
  // Warm-up: JIT and TLS sessions, not measured.
  for (let i = 0; i < 200; i++) await Promise.all([post(agent, info.port, '/mutate', bodies[i % 64]!), post(agent, info.port, '/echo', bodies[i % 64]!)]);

  const lat: Record<'/mutate' | '/echo', number[]> = { '/mutate': [], '/echo': [] };
  const total = Math.round(seconds * rate * 2);
  const interval = 1000 / (rate * 2);
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    // Open loop: each request leaves at its scheduled time whether or not earlier ones finished,
    // and is timed from that time, so a stall shows in the figures (no coordinated omission).
    const due = start + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const path = i % 2 === 0 ? '/mutate' : '/echo';
    inflight.push(post(agent, info.port, path, bodies[i % 64]!, due).then((ms) => void lat[path].push(ms)));
  }
  await Promise.all(inflight);
  agent.destroy();
  child.kill('SIGTERM');

  // The decision alone, in this process, without HTTP or TLS: what /mutate adds over the echo.
  const core: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const parsed = JSON.parse(bodies[i % 64]!) as unknown;
    const t0 = process.hrtime.bigint();
    reviewBody(parsed, DEFAULT_WEBHOOK_CONFIG, { nativeSidecar: true, webhookNamespace: 'mcp-warden' });
    core.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  core.sort((a, b) => a - b);

  const rows = (['/echo', '/mutate'] as const).map((p) => {
    const s = [...lat[p]].sort((a, b) => a - b);
    return `| ${p === '/echo' ? 'baseline: fastify HTTPS echo' : 'POST /mutate (inject)'} | ${s.length} | ${rate} | ${pct(s, 50).toFixed(2)} | ${pct(s, 90).toFixed(2)} | ${pct(s, 99).toFixed(2)} | ${s[s.length - 1]!.toFixed(2)} |`;
  });
  rows.push(`| inject decision alone (in-process, no HTTP) | ${core.length} | - | ${pct(core, 50).toFixed(3)} | ${pct(core, 90).toFixed(3)} | ${pct(core, 99).toFixed(3)} | ${core[core.length - 1]!.toFixed(3)} |`);
  const m = [...lat['/mutate']].sort((a, b) => a - b);
  console.log('| route | requests | rate (req/s) | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
  console.log(`\n/mutate p99 ${pct(m, 99).toFixed(2)} ms: ${pct(m, 99) < 5 ? 'under' : 'OVER'} the 5 ms aim (${seconds} s, loopback, keep-alive, requests interleaved with the baseline).`);
}

if (process.argv.includes('--serve')) await serve();
else await main();
