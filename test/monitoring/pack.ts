/**
 * The monitoring pack as the chart renders it (ci/monitoring-values.yaml), taken apart for the
 * tests: the PodMonitor, the alert rules, the Grafana dashboard and its queries, and the metric
 * names any PromQL expression references.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CHART, NEW_CLUSTER, get, helm, isObj, list, obj, parseManifests, templateArgs, type Json, type K8sObject } from '../chart/render.ts';

export const MONITORING_VALUES = join(CHART, 'ci', 'monitoring-values.yaml');

/** helm template with the monitoring ci values (and `--set` overrides); fails with helm's stderr. */
export async function renderPack(sets: readonly string[] = []): Promise<K8sObject[]> {
  const r = await helm(templateArgs(MONITORING_VALUES, NEW_CLUSTER, sets.flatMap((s) => ['--set', s])));
  assert.equal(r.code, 0, `helm template failed: ${r.stderr}`);
  return parseManifests(r.stdout);
}

export function only(objects: readonly K8sObject[], kind: string, name?: RegExp): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (!name || name.test(o.metadata.name)));
  assert.equal(found.length, 1, `expected one ${kind}${name ? ` named ${name}` : ''}, got ${found.map((o) => o.metadata.name).join(', ') || 'none'}`);
  return found[0]!;
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

/** The PrometheusRule's groups, as a Prometheus rule file holds them. */
export function ruleGroups(objects: readonly K8sObject[]): Json[] {
  return list(get(only(objects, 'PrometheusRule'), 'spec.groups'), 'spec.groups').map((g) => obj(g, 'group'));
}

export function alertRules(objects: readonly K8sObject[]): AlertRule[] {
  return ruleGroups(objects).flatMap((g) => list(g.rules, 'rules').map((r) => obj(r, 'rule') as unknown as AlertRule));
}

export interface PanelQuery {
  readonly where: string;
  readonly expr: string;
}

/** The dashboard JSON from its ConfigMap. */
export function dashboardOf(objects: readonly K8sObject[]): Json {
  const cm = only(objects, 'ConfigMap', /-dashboard$/);
  const files = Object.entries(obj(cm.data, 'data'));
  assert.equal(files.length, 1, 'one dashboard file');
  return obj(JSON.parse(String(files[0]![1])), 'dashboard');
}

/** Every panel target of the dashboard, rows included. */
export function panelQueries(dashboard: Json): PanelQuery[] {
  const out: PanelQuery[] = [];
  const walk = (panels: unknown[]) => {
    for (const p of panels.map((x) => obj(x, 'panel'))) {
      for (const t of list(p.targets, 'targets').map((x) => obj(x, 'target'))) out.push({ where: `panel "${String(p.title)}" ${String(t.refId)}`, expr: String(t.expr) });
      if (Array.isArray(p.panels)) walk(p.panels);
    }
  };
  walk(list(dashboard.panels, 'panels'));
  return out;
}

/** Query variables: Grafana's `label_values(selector, label)` split into its selector and label. */
export function variableQueries(dashboard: Json): Array<{ name: string; selector: string; label: string }> {
  const vars = list(get(dashboard, 'templating.list'), 'templating.list').map((v) => obj(v, 'variable'));
  return vars
    .filter((v) => v.type === 'query')
    .map((v) => {
      const q = isObj(v.query) ? String(v.query.query) : String(v.query);
      const m = /^label_values\((.*),\s*([a-zA-Z_]\w*)\)$/s.exec(q);
      assert.ok(m, `variable ${String(v.name)}: expected label_values(selector, label), got ${q}`);
      return { name: String(v.name), selector: m[1]!, label: m[2]! };
    });
}

/**
 * A dashboard query as Grafana sends it: variables replaced by the values the test selects
 * (regex matchers, so several values join with |) and $__rate_interval by a range that covers a
 * few of the test's 1 s scrapes.
 */
export function grafanaExpand(expr: string, vars: Readonly<Record<string, string>>, rateInterval = '20s'): string {
  return expr.replace(/\$__rate_interval/g, rateInterval).replace(/\$\{?([a-zA-Z_]\w*)\}?/g, (m, name: string) => vars[name] ?? m);
}

const NOT_METRICS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression reads. Strings, label matchers, ranges, grouping label
 * lists and numbers are dropped first; what is left and is not a function call or a keyword is a
 * metric name.
 */
export function metricNames(expr: string): string[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/\{[^}]*\}/g, ' ');
  s = s.replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  s = s.replace(/\boffset\s+-?\w+/g, ' ');
  s = s.replace(/(^|[^A-Za-z0-9_:])(\d+(\.\d+)?(e[+-]?\d+)?)/gi, '$1 ');
  const out = new Set<string>();
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const rest = s.slice(m.index + m[0].length);
    if (/^\s*\(/.test(rest) || NOT_METRICS.has(m[0].toLowerCase())) continue;
    out.add(m[0]);
  }
  return [...out].sort();
}

/** Metric names in a Prometheus exposition (`# TYPE` lines), histograms and summaries with their series suffixes. */
export function exportedNames(exposition: string): Set<string> {
  const out = new Set<string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    out.add(name);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(name + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) out.add(name + s);
  }
  return out;
}

/** Prometheus's own series, which no exporter exports: the only names allowed beyond the two programs'. */
export const PROMETHEUS_SYNTHETIC = new Set(['up']);
