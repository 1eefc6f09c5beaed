/**
 * The monitoring pack as the chart renders it: off by default, each part behind its value, every
 * object valid against its CRD or Kubernetes schema, every value reaching the objects, typos
 * refused by the schema, the PodMonitor selecting exactly what the inject CLI produces, and every
 * alert documented in the README's runbook.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isolatedBundle } from '../helpers/bundle.ts';
import { runNode } from '../helpers/run-node.ts';
import { matches, type LabelSelector } from '../chart/label-selector.ts';
import { schemaErrors } from '../chart/k8s-schema.ts';
import { CHART, NEW_CLUSTER, ROOT, get, helm, list, obj, parseManifests, templateArgs, type K8sObject } from '../chart/render.ts';
import { alertRules, dashboardOf, only, panelQueries, renderPack, variableQueries } from './pack.ts';

let pack: K8sObject[];
before(async () => {
  pack = await renderPack();
});

const MONITORING_KINDS = ['PodMonitor', 'PrometheusRule'];

test('monitoring is off by default: no PodMonitor, PrometheusRule or dashboard ConfigMap', async () => {
  const r = await helm(templateArgs(undefined, NEW_CLUSTER));
  assert.equal(r.code, 0, r.stderr);
  const objs = parseManifests(r.stdout);
  assert.deepEqual(objs.filter((o) => MONITORING_KINDS.includes(o.kind) || o.metadata.name.endsWith('-dashboard')).map((o) => o.kind), []);
});

test('each part renders on its own value, and every object validates against its CRD or Kubernetes schema', async () => {
  for (const [value, kind] of [['podMonitor', 'PodMonitor'], ['prometheusRule', 'PrometheusRule'], ['dashboard', 'ConfigMap']] as const) {
    const r = await helm(templateArgs(undefined, NEW_CLUSTER, ['--set', `monitoring.${value}.enabled=true`]));
    assert.equal(r.code, 0, r.stderr);
    const objs = parseManifests(r.stdout);
    assert.deepEqual(objs.filter((o) => MONITORING_KINDS.includes(o.kind) || o.metadata.name.endsWith('-dashboard')).map((o) => o.kind), [kind], value);
  }
  for (const o of pack) assert.equal(schemaErrors(o), undefined);
  // The CRD schema is really applied: a broken PodMonitor is refused.
  const broken = structuredClone(only(pack, 'PodMonitor'));
  (broken as unknown as { spec: { podMetricsEndpoints: Array<{ interval: string }> } }).spec.podMetricsEndpoints[0]!.interval = 'often';
  assert.match(schemaErrors(broken) ?? '', /interval must match pattern/);
});

test('the values reach the objects: namespaces, labels, thresholds, alert labels, runbook URLs, dashboard label and namespace', async () => {
  const objs = await renderPack([
    'monitoring.podMonitor.namespaces={apps,mcp-servers}',
    'monitoring.podMonitor.interval=15s',
    'monitoring.prometheusRule.thresholds.errorRatio=0.2',
    'monitoring.prometheusRule.thresholds.certExpiryDays=5',
    'monitoring.dashboard.label=dashboards',
    'monitoring.dashboard.labelValue=mcp',
  ]);
  const pm = only(objs, 'PodMonitor');
  assert.deepEqual(get(pm, 'spec.namespaceSelector'), { matchNames: ['apps', 'mcp-servers'] });
  assert.equal(pm.metadata.labels?.release, 'prometheus');
  assert.equal(get(obj(list(get(pm, 'spec.podMetricsEndpoints'), 'endpoints')[0], 'endpoint'), 'interval'), '15s');
  assert.deepEqual(get(only(pack, 'PodMonitor'), 'spec.namespaceSelector'), { any: true }, 'no namespaces: any');
  const rules = new Map(alertRules(objs).map((r) => [r.alert, r]));
  assert.match(rules.get('McpWardenHighErrorRate')!.expr, /> 0\.2\s*$/);
  assert.match(rules.get('McpWardenHighErrorRate')!.annotations.description!, /More than 20% of the requests/);
  assert.match(rules.get('McpWardenWebhookCertificateExpiring')!.expr, /< 5 \* 86400$/);
  for (const r of alertRules(pack)) {
    assert.equal(r.labels.team, 'platform', `${r.alert}: alertLabels`);
    assert.equal(r.annotations.runbook_url, `https://git.example.com/mcp-warden/blob/main/charts/mcp-warden/README.md#${r.alert.toLowerCase()}`);
  }
  const noUrl = await helm(templateArgs(undefined, NEW_CLUSTER, ['--set', 'monitoring.prometheusRule.enabled=true']));
  for (const r of alertRules(parseManifests(noUrl.stdout))) {
    assert.equal(r.annotations.runbook_url, undefined, 'no base URL: no runbook_url');
    assert.equal(r.annotations.runbook, `charts/mcp-warden/README.md, Runbook: ${r.alert}`);
  }
  const cm = only(objs, 'ConfigMap', /-dashboard$/);
  assert.equal(cm.metadata.labels?.dashboards, 'mcp');
  assert.equal(cm.metadata.labels?.grafana_dashboard, undefined);
  const dflt = only(pack, 'ConfigMap', /-dashboard$/);
  assert.equal(dflt.metadata.labels?.grafana_dashboard, '1');
  assert.equal(dflt.metadata.namespace, 'monitoring');
  assert.equal(dflt.metadata.annotations?.grafana_folder, 'MCP');
  // The webhook alerts select the job prometheus-operator gives the ServiceMonitor's targets: the Service's name.
  const svc = only(pack, 'Service');
  assert.match(rules.get('McpWardenWebhookDown')!.expr, new RegExp(`job="${svc.metadata.name}", namespace="${svc.metadata.namespace}"`));
  assert.ok(matches(get(only(pack, 'ServiceMonitor'), 'spec.selector') as LabelSelector, svc.metadata.labels ?? {}));
});

test('the values schema refuses typos and out-of-range values in the monitoring block, naming them', async () => {
  const r = await helm(templateArgs(undefined, NEW_CLUSTER, ['--set', 'monitoring.podMonitor.enabeld=true', '--set', 'monitoring.prometheusRule.thresholds.errorRatio=2', '--set', 'monitoring.dashboard.labelValue=not ok', '--set', 'monitoring.prometheusRule.runbookBaseUrl=ftp://x']));
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /additional properties 'enabeld' not allowed/);
  assert.match(r.stderr, /errorRatio/);
  assert.match(r.stderr, /labelValue/);
  assert.match(r.stderr, /runbookBaseUrl/);
});

const run = (args: string[]) => runNode(args, { cwd: ROOT });

test('the PodMonitor selects what the inject CLI (dist/cli.mjs) outputs: the label, and the admin port by name with /metrics', async () => {
  const pm = only(pack, 'PodMonitor');
  const selector = get(pm, 'spec.selector') as LabelSelector;
  const endpoint = obj(list(get(pm, 'spec.podMetricsEndpoints'), 'endpoints')[0], 'endpoint');
  const cli = isolatedBundle('cli');
  for (const native of ['true', 'false']) {
    const r = await run([cli, 'inject', '-f', join(ROOT, 'test/webhook/golden/deployment.in.yaml'), `--native-sidecar=${native}`]);
    assert.equal(r.code, 0, r.stderr);
    const dep = parseAllDocuments(r.stdout)[0]!.toJS() as { spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: Array<Record<string, unknown>>; initContainers?: Array<Record<string, unknown>> } } } };
    const template = dep.spec.template;
    assert.ok(matches(selector, template.metadata.labels), `selector ${JSON.stringify(selector)} misses ${JSON.stringify(template.metadata.labels)}`);
    const sidecar = [...(template.spec.initContainers ?? []), ...template.spec.containers].find((c) => c.name === 'mcp-warden-sidecar')!;
    const ports = sidecar.ports as Array<{ name: string; containerPort: number }>;
    const admin = ports.find((p) => p.name === endpoint.port);
    assert.ok(admin, `the sidecar has a port named ${String(endpoint.port)}: ${JSON.stringify(ports)}`);
    const env = new Map((sidecar.env as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]));
    assert.equal(String(admin.containerPort), env.get('MCP_AUTH_ADMIN_PORT'), 'that port is the admin listener');
    assert.equal(endpoint.path, '/metrics');
  }
  // A pod the webhook left alone carries no such label, so it is never scraped as a sidecar.
  const skipped = await run([cli, 'inject', '-f', join(ROOT, 'test/webhook/golden/not-annotated.in.yaml')]);
  assert.ok(!matches(selector, (parseAllDocuments(skipped.stdout)[0]!.toJS() as { metadata: { labels?: Record<string, string> } }).metadata.labels ?? {}));
});

test('every alert has a severity, a summary, a description and a runbook section in the chart README', () => {
  const readme = readFileSync(join(CHART, 'README.md'), 'utf8');
  const runbook = readme.slice(readme.indexOf('### Runbook'));
  const rules = alertRules(pack);
  assert.ok(rules.length >= 12, `${rules.length} alerts`);
  assert.equal(new Set(rules.map((r) => r.alert)).size, rules.length, 'alert names are unique');
  for (const r of rules) {
    assert.ok(['critical', 'warning', 'info'].includes(r.labels.severity ?? ''), `${r.alert}: severity ${r.labels.severity}`);
    assert.ok((r.annotations.summary ?? '').length > 20 && (r.annotations.description ?? '').length > 60, `${r.alert}: summary and description`);
    const start = runbook.indexOf(`\n#### ${r.alert}\n`);
    assert.ok(start >= 0, `README runbook has no section "#### ${r.alert}"`);
    const section = runbook.slice(start + 1).split(/\n#{2,4} /)[0]!.slice(1);
    for (const part of ['**Meaning**', '**Impact**', '**Diagnosis**', '**Mitigation**']) assert.ok(section.includes(part), `${r.alert}: runbook section lacks ${part}`);
  }
  const sections = [...runbook.matchAll(/^#### (\S+)$/gm)].map((m) => m[1]);
  assert.deepEqual(sections.sort(), rules.map((r) => r.alert).sort(), 'no runbook section without its alert');
});

test('the dashboard: Grafana sidecar label, namespace and pod variables, every panel on the data source variable', () => {
  const d = dashboardOf(pack);
  assert.equal(d.uid, 'mcp-warden');
  assert.deepEqual(variableQueries(d).map((v) => [v.name, v.label]), [['namespace', 'namespace'], ['pod', 'pod']]);
  const queries = panelQueries(d);
  assert.ok(queries.length >= 15, `${queries.length} queries`);
  for (const q of queries) {
    if (!/webhook/.test(q.expr)) assert.match(q.expr, /namespace=~"\$namespace", pod=~"\$pod"/, `${q.where} filters by the variables`);
  }
  const panels = list(d.panels, 'panels').map((p) => obj(p, 'panel'));
  assert.equal(new Set(panels.map((p) => p.id)).size, panels.length, 'unique panel ids');
  for (const p of panels.filter((x) => x.type !== 'row')) assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, String(p.title));
  const covered = queries.map((q) => q.expr).join('\n');
  for (const metric of ['mcp_warden_requests_total', 'mcp_warden_request_duration_seconds_bucket', 'mcp_warden_auth_failures_total', 'mcp_warden_jwt_failures_total', 'mcp_warden_upstream_errors_total', 'mcp_warden_rate_limited_total', 'mcp_warden_tool_calls_total', 'mcp_warden_dlp_redactions_total', 'mcp_warden_open_streams', 'mcp_warden_webhook_admissions_total', 'mcp_warden_webhook_admission_duration_seconds_bucket']) {
    assert.ok(covered.includes(metric), `a panel shows ${metric}`);
  }
});
