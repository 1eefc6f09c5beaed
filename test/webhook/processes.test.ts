/**
 * The two entry points as processes: the CLI (bin/mcp-warden.mjs, files and stdin) and the webhook
 * (webhook/main.ts: config from env, provided TLS, SIGTERM -> exit 0; bad config -> exit 2).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { generateCaAndCert, serviceDnsNames } from '../../webhook/tls/generate.ts';
import { admissionReview, httpsCall } from './helpers/review.ts';
import { freePort } from '../helpers/ports.ts';
import { isolatedBundle } from '../helpers/bundle.ts';
import { runNode } from '../helpers/run-node.ts';
import { until } from '../helpers/wait.ts';
import { nodeTooOld, runCliProcess } from '../../webhook/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'mcp-warden-proc-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const run = (args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) => runNode(args, { cwd: ROOT, ...opts });

const sidecarOf = (doc: any) => [...(doc.spec.template.spec.initContainers ?? []), ...doc.spec.template.spec.containers].find((c: { name: string }) => c.name === 'mcp-warden-sidecar'); // eslint-disable-line @typescript-eslint/no-explicit-any
const DEPLOYMENT = join(ROOT, 'test/webhook/golden/deployment.in.yaml');

test('CLI: inject -f deployment.yaml prints YAML with the sidecar in the template; the Service passes through', async () => {
  const r = await run(['bin/mcp-warden.mjs', 'inject', '-f', DEPLOYMENT]);
  assert.equal(r.code, 0, r.stderr);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS());
  assert.equal(docs.length, 2);
  assert.equal(docs[0].kind, 'Deployment');
  assert.equal(sidecarOf(docs[0]).restartPolicy, 'Always');
  assert.equal(docs[1].kind, 'Service');
  assert.match(r.stderr, /warning: .*targetPort is the number 3000/);
});

test('CLI bundle: dist/cli.mjs alone in an empty folder injects like the checkout CLI', async () => {
  const cli = isolatedBundle('cli');
  const r = await run([cli, 'inject', '-f', DEPLOYMENT]);
  assert.equal(r.code, 0, r.stderr);
  const checkout = await run(['bin/mcp-warden.mjs', 'inject', '-f', DEPLOYMENT]);
  assert.equal(r.stdout, checkout.stdout);
  assert.ok(sidecarOf(parseAllDocuments(r.stdout)[0]!.toJS()));
});

test('CLI bundle: dist/cli.mjs alone in an empty folder reads -f - from stdin; the output is stable', async () => {
  const cli = isolatedBundle('cli');
  const input = readFileSync(DEPLOYMENT, 'utf8');
  const r = await run([cli, 'inject', '-f', '-'], { stdin: input });
  assert.equal(r.code, 0, r.stderr);
  const checkout = await run(['bin/mcp-warden.mjs', 'inject', '-f', DEPLOYMENT]);
  assert.equal(r.stdout, checkout.stdout, 'stdin and a file give the same output');
  const again = await run([cli, 'inject', '-f', '-'], { stdin: r.stdout });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, r.stdout, 'injecting the output again changes nothing');
  assert.deepEqual(readdirSync(dirname(cli)), ['cli.mjs']);
});

test('CLI on a Node.js older than 24: one line and exit 2, never a silent empty output', async () => {
  const lines: string[] = [];
  const io = { stdout: (s: string) => lines.push(`out:${s}`), stderr: (s: string) => lines.push(`err:${s}`), readStdin: async () => '', readFile: () => '' };
  assert.equal(await runCliProcess(['inject', '-f', DEPLOYMENT], io, 'v20.20.2'), 2);
  assert.deepEqual(lines, ['err:mcp-warden: needs Node.js 24 or newer; this is v20.20.2\n']);
  assert.equal(nodeTooOld('v22.18.0'), 'mcp-warden: needs Node.js 24 or newer; this is v22.18.0');
  assert.equal(nodeTooOld('v24.0.0'), undefined);
  assert.equal(nodeTooOld('v25.1.0'), undefined);
  assert.equal(nodeTooOld(process.version), undefined, 'the Node 24 the tests run on');
});

test('CLI: -f - reads stdin; --native-sidecar=false places a regular container first', async () => {
  const r = await run(['bin/mcp-warden.mjs', 'inject', '-f', '-', '--native-sidecar', 'false'], { stdin: readFileSync(DEPLOYMENT, 'utf8') });
  assert.equal(r.code, 0, r.stderr);
  const dep = parseAllDocuments(r.stdout)[0]!.toJS();
  assert.equal(dep.spec.template.spec.containers[0].name, 'mcp-warden-sidecar');
  assert.equal(dep.spec.template.spec.initContainers, undefined);
});

test('CLI: a bad annotation exits 1 naming it; bad usage and config exit 2', async () => {
  const bad = await run(['bin/mcp-warden.mjs', 'inject', '-f', join(ROOT, 'test/webhook/golden/bad-annotations.in.yaml')]);
  assert.equal(bad.code, 1);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /mcp-warden\.dev\/rate-limit: got "lots"/);
  const usage = await run(['bin/mcp-warden.mjs', 'inject']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /-f FILE/);
  const cfg = join(tmp, 'bad-config.yaml');
  writeFileSync(cfg, 'sidecar: { listenPort: 0 }\n');
  const badCfg = await run(['bin/mcp-warden.mjs', 'inject', '-f', DEPLOYMENT, '--config', cfg]);
  assert.equal(badCfg.code, 2);
  assert.match(badCfg.stderr, /sidecar\.listenPort: got 0/);
});

test('webhook process: bad config exits 2 listing every problem', async () => {
  const cfg = join(tmp, 'webhook-bad.yaml');
  writeFileSync(cfg, 'tls: { mode: nope }\nsidecar: { env: { MCP_AUTH_DLP_MODE: loud } }\n');
  const r = await run(['webhook/main.ts'], { env: { MCP_WARDEN_WEBHOOK_CONFIG: cfg } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /2 problems/);
  assert.match(r.stderr, /tls\.mode: got "nope"/);
  assert.match(r.stderr, /sidecar\.env\.MCP_AUTH_DLP_MODE: got "loud"/);
});

test('webhook process: provided TLS, serves /mutate, SIGTERM exits 0', async () => {
  const tls = generateCaAndCert({ dnsNames: serviceDnsNames('mcp-warden-webhook', 'mcp-warden'), validityDays: 10, now: new Date() });
  writeFileSync(join(tmp, 'tls.crt'), tls.cert);
  writeFileSync(join(tmp, 'tls.key'), tls.key);
  const port = await freePort();
  const cfg = join(tmp, 'webhook.yaml');
  writeFileSync(cfg, `server: { port: ${port} }\ntls: { mode: provided, certFile: ${join(tmp, 'tls.crt')}, keyFile: ${join(tmp, 'tls.key')} }\nnativeSidecar: "true"\n`);
  const child = spawn(process.execPath, ['webhook/main.ts'], { cwd: ROOT, env: { ...process.env, MCP_WARDEN_WEBHOOK_CONFIG: cfg, POD_NAMESPACE: 'mcp-warden' } });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c));
  child.stderr.on('data', (c: Buffer) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    await until(() => out.includes('mcp-warden webhook listening'), 'the webhook to listen', 10_000, () => out);
    const opts = { ca: tls.ca, servername: 'mcp-warden-webhook.mcp-warden.svc' };
    assert.equal((await httpsCall(port, '/readyz', opts)).status, 200);
    const review = admissionReview({ metadata: { name: 'p', annotations: { 'mcp-warden.dev/inject': 'true' } }, spec: { containers: [{ name: 's', image: 'i', ports: [{ name: 'mcp', containerPort: 3000 }] }] } });
    const body = (await httpsCall(port, '/mutate', { ...opts, body: JSON.stringify(review) })).json();
    assert.equal(body.response.allowed, true);
    assert.equal(body.response.patchType, 'JSONPatch');
    // The decision is logged once; the line may trail the response by a tick.
    await until(() => out.includes('"msg":"injected"'), 'the decision to be logged', 2000, () => out);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, out);
});
