/**
 * The monitoring pack against real data: a real Prometheus on loopback (Debian's 2.42) scrapes two
 * real sidecars, a dead sidecar target and the real webhook bundle over verified HTTPS, with the
 * scrape jobs built from the rendered PodMonitor and ServiceMonitor and the rendered alert rules
 * loaded, while the test drives traffic: good keys, bad keys, a denied tool, a redacted secret, a
 * rate-limited client, an upstream that refuses, an IdP that cannot be reached, and admissions.
 * Then every dashboard query returns data, every alert evaluates without error (and those the
 * traffic provokes return data), and every metric name in the pack is one the programs export.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { isolatedBundle } from '../helpers/bundle.ts';
import { startEverything, type Everything } from '../helpers/everything.ts';
import { connectClient } from '../helpers/mcp-client.ts';
import { freePort, stopChild, waitForPort } from '../helpers/ports.ts';
import { startPrometheus, type Prometheus } from '../helpers/prometheus.ts';
import { startSidecar, type RunningSidecar } from '../helpers/sidecar.ts';
import { until } from '../helpers/wait.ts';
import { admissionReview, httpsCall } from '../webhook/helpers/review.ts';
import { generateCaAndCert, type CaAndCert } from '../../webhook/tls/generate.ts';
import { get, list, obj, type Json, type K8sObject } from '../chart/render.ts';
import { PROMETHEUS_SYNTHETIC, alertRules, dashboardOf, exportedNames, grafanaExpand, metricNames, only, panelQueries, renderPack, ruleGroups, variableQueries, type AlertRule } from './pack.ts';

const AWS = 'AKIAIOSFODNN7EXAMPLE';
const NS = 'apps';
/** Thresholds low enough that this short run's traffic crosses them (the defaults are for clusters). */
const TEST_THRESHOLDS = ['authFailuresPerSecond=0.001', 'rateLimitedPerSecond=0.001', 'webhookLatencySeconds=0.00001'].map((s) => `monitoring.prometheusRule.thresholds.${s}`);
/** Alerts the traffic here cannot provoke (no restarts, the webhook stays up, no reload fails): they must evaluate without error. */
const QUIET_HERE = new Set(['McpWardenSidecarRestarting', 'McpWardenWebhookDown', 'McpWardenWebhookCertificateReloadFailing']);

let pack: K8sObject[];
let rules: AlertRule[];
let upstream: Everything;
let good: RunningSidecar;
let broken: RunningSidecar;
let webhook: ChildProcess;
let webhookPort: number;
let webhookOut = '';
let tls: CaAndCert;
let serverName: string;
let prom: Prometheus;
const tmp = mkdtempSync(join(tmpdir(), 'mcp-warden-mon-'));

/** A JWT-shaped token with a kid: verifying it needs the JWKS, which is unreachable. */
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const KID_TOKEN = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${b64({ iss: 'http://127.0.0.1:1', sub: 'u', aud: 'mcp', exp: 4102444800 })}.${Buffer.from('sig').toString('base64url')}`;

before(async () => {
  pack = await renderPack(TEST_THRESHOLDS);
  rules = alertRules(pack);
  upstream = await startEverything('streamableHttp');
  const [deadUpstream, deadIdp] = [await freePort(), await freePort()];
  good = await startSidecar({
    MCP_AUTH_UPSTREAM_URL: upstream.url,
    MCP_AUTH_KEY: 'good-key-0123456789,limited-key-0123456789',
    MCP_AUTH_DENY_TOOLS: 'get-env',
    MCP_AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE: '60',
    MCP_AUTH_RATE_LIMIT_BURST_SIZE: '60',
  });
  broken = await startSidecar({
    MCP_AUTH_UPSTREAM_URL: `http://127.0.0.1:${deadUpstream}`,
    MCP_AUTH_MODE: 'any',
    MCP_AUTH_KEY: 'broken-key-0123456789',
    MCP_AUTH_JWT_ISSUER: 'http://127.0.0.1:1',
    MCP_AUTH_JWT_JWKS_URL: `http://127.0.0.1:${deadIdp}/jwks`,
    MCP_AUTH_JWT_JWKS_TIMEOUT_MS: '500',
    MCP_AUTH_JWT_AUDIENCE: 'mcp',
    MCP_AUTH_RESOURCE_URL: 'http://127.0.0.1/mcp',
  });

  // The webhook bundle as its image runs it, serving the certificate the ServiceMonitor verifies.
  const sm = only(pack, 'ServiceMonitor');
  serverName = String(get(obj(list(get(sm, 'spec.endpoints'), 'endpoints')[0], 'endpoint'), 'tlsConfig.serverName'));
  tls = generateCaAndCert({ dnsNames: [serverName], validityDays: 10, now: new Date() });
  writeFileSync(join(tmp, 'tls.crt'), tls.cert);
  writeFileSync(join(tmp, 'tls.key'), tls.key);
  webhookPort = await freePort();
  writeFileSync(join(tmp, 'webhook.yaml'), stringify({ server: { port: webhookPort }, tls: { mode: 'provided', certFile: join(tmp, 'tls.crt'), keyFile: join(tmp, 'tls.key') }, nativeSidecar: 'true' }));
  webhook = spawn(process.execPath, [isolatedBundle('webhook')], { env: { ...process.env, MCP_WARDEN_WEBHOOK_CONFIG: join(tmp, 'webhook.yaml'), POD_NAMESPACE: sm.metadata.namespace }, stdio: ['ignore', 'pipe', 'pipe'] });
  webhook.stdout!.on('data', (d: Buffer) => (webhookOut += d.toString()));
  webhook.stderr!.on('data', (d: Buffer) => (webhookOut += d.toString()));
  await waitForPort(webhookPort, webhook, 20_000);

  prom = await startPrometheus(prometheusConfig(pack, { good: new URL(good.adminUrl).host, broken: new URL(broken.adminUrl).host, dead: `127.0.0.1:${await freePort()}`, webhook: `127.0.0.1:${webhookPort}` }), {
    'rules.yaml': stringify({ groups: ruleGroups(pack) }),
    'ca.crt': tls.ca,
  });
});

after(async () => {
  await prom?.stop();
  if (webhook) await stopChild(webhook);
  await good?.close();
  await broken?.close();
  await upstream?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** prometheus-operator's `relabelings` in Prometheus's own spelling. */
function relabelConfigs(endpoint: Json): Json[] {
  return list(endpoint.relabelings, 'relabelings').map((r) => {
    const x = obj(r, 'relabeling');
    return { action: x.action ?? 'replace', target_label: x.targetLabel, replacement: x.replacement, ...(x.sourceLabels ? { source_labels: x.sourceLabels } : {}) };
  });
}

/**
 * The scrape jobs prometheus-operator would generate from the rendered PodMonitor and
 * ServiceMonitor, with static targets where Kubernetes discovery would find pods: the endpoint's
 * scheme, path and relabelings as rendered, the namespace and pod labels the operator adds, the
 * Service name as the ServiceMonitor's job, and a 1 s interval so the test takes seconds.
 */
function prometheusConfig(objs: K8sObject[], targets: { good: string; broken: string; dead: string; webhook: string }): Json {
  const pm = only(objs, 'PodMonitor');
  const pmEp = obj(list(get(pm, 'spec.podMetricsEndpoints'), 'endpoints')[0], 'endpoint');
  const sm = only(objs, 'ServiceMonitor');
  const smEp = obj(list(get(sm, 'spec.endpoints'), 'endpoints')[0], 'endpoint');
  const svc = only(objs, 'Service');
  const sidecar = (target: string, pod: string) => ({ targets: [target], labels: { namespace: NS, pod, container: 'mcp-warden-sidecar', endpoint: String(pmEp.port) } });
  return {
    global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '1s' },
    rule_files: ['rules.yaml'],
    scrape_configs: [
      {
        job_name: `podMonitor/${pm.metadata.namespace}/${pm.metadata.name}/0`,
        scheme: pmEp.scheme,
        metrics_path: pmEp.path,
        static_configs: [sidecar(targets.good, 'mcp-good-0'), sidecar(targets.broken, 'mcp-broken-0'), sidecar(targets.dead, 'mcp-dead-0')],
        relabel_configs: relabelConfigs(pmEp),
      },
      {
        job_name: `serviceMonitor/${sm.metadata.namespace}/${sm.metadata.name}/0`,
        scheme: smEp.scheme,
        metrics_path: smEp.path,
        tls_config: { ca_file: 'ca.crt', server_name: get(smEp, 'tlsConfig.serverName') },
        static_configs: [{ targets: [targets.webhook], labels: { namespace: svc.metadata.namespace, pod: 'warden-webhook-0', endpoint: String(smEp.port) } }],
        // The operator's default job label for a ServiceMonitor target: its Service's name.
        relabel_configs: [{ action: 'replace', target_label: 'job', replacement: svc.metadata.name }],
      },
    ],
  };
}

async function post(base: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  await res.arrayBuffer();
  return res.status;
}

const review = (body: unknown) => httpsCall(webhookPort, '/mutate', { ca: tls.ca, servername: serverName, body: typeof body === 'string' ? body : JSON.stringify(body) });
const pod = (annotations: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'mcp-', namespace: NS, annotations }, spec: { containers: [{ name: 'server', image: 'example/mcp:1', ports: [{ name: 'mcp', containerPort: 3000 }] }] } });

/** One round of every kind of traffic the pack watches. */
async function traffic(): Promise<void> {
  const client = await connectClient(good.url, 'streamableHttp', { 'X-API-Key': 'good-key-0123456789' });
  try {
    await client.listTools();
    const echoed = await client.callTool({ name: 'echo', arguments: { message: `key ${AWS}` } });
    assert.doesNotMatch(JSON.stringify(echoed), new RegExp(AWS), 'the secret was redacted');
    await assert.rejects(client.callTool({ name: 'get-env', arguments: {} }), /not permitted/);
  } finally {
    await client.close();
  }
  assert.equal(await post(good.url, { 'X-API-Key': 'wrong-key-0123456789' }), 401);
  assert.equal(await post(good.url, {}), 401);
  const limited = await Promise.all(Array.from({ length: 70 }, () => post(good.url, { 'X-API-Key': 'limited-key-0123456789' })));
  assert.ok(limited.includes(429), `the limited client was refused: ${[...new Set(limited)].join(',')}`);
  assert.equal(await post(broken.url, { 'X-API-Key': 'broken-key-0123456789' }), 502);
  assert.equal(await post(broken.url, { authorization: `Bearer ${KID_TOKEN}` }), 503);
  assert.equal(await post(broken.url, { authorization: 'Bearer not-a-jwt' }), 401);

  for (const [p, allowed] of [[pod({ 'mcp-warden.dev/inject': 'true', 'mcp-warden.dev/apikey-secret': 'keys' }), true], [pod({}), true], [pod({ 'mcp-warden.dev/inject': 'true', 'mcp-warden.dev/rate-limit': 'fast' }), false]] as const) {
    const r = (await review(admissionReview(p, { namespace: NS }))).json();
    assert.equal(r.response.allowed, allowed);
  }
  assert.equal((await review('{"not json')).status, 400);
}

const evaluate = async (expr: string) => {
  try {
    return { ok: true as const, samples: await prom.query(expr) };
  } catch (err) {
    return { ok: false as const, error: (err as Error).message };
  }
};

test('Prometheus scrapes the sidecars and the webhook with the pack\'s jobs: up, job and namespace labels as the rules expect', async () => {
  await traffic();
  await until(async () => (await prom.query('up')).length === 4, 'four targets scraped', 20_000);
  const up = await prom.query('up');
  const byPod = Object.fromEntries(up.map((s) => [s.metric.pod, `${s.metric.job} ${s.value[1]}`]));
  const svc = only(pack, 'Service');
  assert.deepEqual(byPod, { 'mcp-good-0': 'mcp-warden-sidecar 1', 'mcp-broken-0': 'mcp-warden-sidecar 1', 'mcp-dead-0': 'mcp-warden-sidecar 0', 'warden-webhook-0': `${svc.metadata.name} 1` }, prom.output() + webhookOut);
});

test('every dashboard panel query and variable returns data', async () => {
  const d = dashboardOf(pack);
  const vars = { namespace: NS, pod: 'mcp-good-0|mcp-broken-0|mcp-dead-0', datasource: 'prometheus' };
  const queries = panelQueries(d).map((q) => ({ ...q, expr: grafanaExpand(q.expr, vars) }));
  for (const v of variableQueries(d)) queries.push({ where: `variable ${v.name}`, expr: `group by (${v.label}) (${grafanaExpand(v.selector, vars)})` });
  // Traffic again once the first round is scraped, so every rate window sees an increase.
  await until(async () => (await prom.query('mcp_warden_tool_calls_total')).length > 0, 'the first round scraped', 20_000);
  await traffic();
  let empty: string[] = [];
  await until(
    async () => {
      empty = [];
      for (const q of queries) {
        const r = await evaluate(q.expr);
        assert.ok(r.ok, `${q.where}: ${q.expr}: ${r.ok ? '' : r.error}`);
        if (r.samples.length === 0) empty.push(`${q.where}: ${q.expr}`);
      }
      return empty.length === 0;
    },
    'every panel query returns data',
    30_000,
  ).catch(() => assert.fail(`queries with no data:\n${empty.join('\n')}`));
  const tools = await prom.query('sum by (tool, decision) (mcp_warden_tool_calls_total)');
  assert.deepEqual(tools.map((s) => `${s.metric.tool} ${s.metric.decision}`).sort(), ['echo allow', 'get-env deny']);
  const redactions = await prom.query('sum by (rule) (mcp_warden_dlp_redactions_total)');
  assert.deepEqual(redactions.map((s) => s.metric.rule), ['aws-access-key-id']);
});

test('every alert expression evaluates without error; those this traffic provokes return data; Prometheus runs every rule healthily', async () => {
  const provoked = rules.filter((r) => !QUIET_HERE.has(r.alert));
  assert.ok(provoked.length >= 10);
  let missing: string[] = [];
  await until(
    async () => {
      missing = [];
      for (const r of rules) {
        const res = await evaluate(r.expr);
        assert.ok(res.ok, `${r.alert}: ${res.ok ? '' : res.error}`);
        if (!QUIET_HERE.has(r.alert) && res.samples.length === 0) missing.push(r.alert);
      }
      return missing.length === 0;
    },
    'the provoked alerts return data',
    30_000,
  ).catch(() => assert.fail(`provoked alerts with no data: ${missing.join(', ')}`));
  const down = await prom.query(rules.find((r) => r.alert === 'McpWardenSidecarDown')!.expr);
  assert.deepEqual(down.map((s) => s.metric.pod), ['mcp-dead-0']);
  const upstreamErrors = await prom.query(rules.find((r) => r.alert === 'McpWardenUpstreamErrors')!.expr);
  assert.deepEqual(upstreamErrors.map((s) => s.metric.pod), ['mcp-broken-0']);

  // The rules as Prometheus itself evaluates them, every evaluation interval.
  let groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string; state?: string }> }> = [];
  await until(
    async () => {
      groups = ((await prom.api('rules')) as { groups: typeof groups }).groups;
      return groups.flatMap((g) => g.rules).every((r) => r.health !== 'unknown');
    },
    'every rule evaluated once',
    20_000,
  );
  const loaded = groups.flatMap((g) => g.rules);
  assert.deepEqual(loaded.map((r) => r.name).sort(), rules.map((r) => r.alert).sort());
  assert.deepEqual(loaded.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`), []);
  // An alert without `for` fires at its next evaluation: DLP saw the AWS key.
  await until(
    async () => ((await prom.api('rules')) as { groups: typeof groups }).groups.flatMap((g) => g.rules).find((r) => r.name === 'McpWardenDlpMatches')?.state === 'firing',
    'McpWardenDlpMatches firing in Prometheus',
    20_000,
  );
});

test('every metric name in the rules and the dashboard is exported by the sidecar or the webhook (or is Prometheus\'s own up)', async () => {
  const sidecarText = await (await fetch(`${good.adminUrl}/metrics`)).text();
  const webhookText = (await httpsCall(webhookPort, '/metrics', { ca: tls.ca, servername: serverName })).body;
  const exported = new Set([...exportedNames(sidecarText), ...exportedNames(webhookText)]);
  assert.ok(exported.has('mcp_warden_requests_total') && exported.has('mcp_warden_webhook_admissions_total'));
  const d = dashboardOf(pack);
  const exprs = [...rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })), ...panelQueries(d), ...variableQueries(d).map((v) => ({ where: `variable ${v.name}`, expr: v.selector }))];
  const unknown = exprs.flatMap((e) => metricNames(e.expr).filter((n) => !exported.has(n) && !PROMETHEUS_SYNTHETIC.has(n)).map((n) => `${e.where}: ${n}`));
  assert.deepEqual(unknown, []);
  const referenced = new Set(exprs.flatMap((e) => metricNames(e.expr)));
  assert.ok(referenced.size >= 15, `${referenced.size} names referenced`);
  // The check itself: a name neither program exports is caught, and functions, labels, durations
  // and keywords are not mistaken for metric names.
  assert.deepEqual(metricNames('sum by (namespace, pod) (rate(mcp_warden_nope_total{class="5xx", pod=~"$pod"}[5m])) / on (pod) group_left (x) up > 0.05 * 86400 offset 5m or vector(0)'), ['mcp_warden_nope_total', 'up']);
  assert.ok(!exported.has('mcp_warden_nope_total'));
});
