/**
 * The alert rules through Debian's promtool (2.42): `promtool check rules` on the rules the chart
 * renders, and `promtool test rules` unit tests for every alert: each fires on series that should
 * page (with its labels and its summary and description expanded as the on-call engineer reads
 * them) and stays quiet on series that should not.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ensureDebianPackage } from '../helpers/debian.ts';
import { alertRules, only, renderPack, ruleGroups, type AlertRule } from './pack.ts';

const SIDECAR = { job: 'mcp-warden-sidecar', namespace: 'apps', pod: 'mcp-a', instance: '10.1.2.3:9901', container: 'mcp-warden-sidecar' };
const POD = { namespace: 'apps', pod: 'mcp-a' };

let promtool: string;
let dir: string;
let rules: Map<string, AlertRule>;
let webhook: { job: string; namespace: string; pod: string; instance: string };

before(async () => {
  promtool = ensureDebianPackage('promtool', 'prometheus');
  dir = mkdtempSync(join(tmpdir(), 'mcp-warden-rules-'));
  const pack = await renderPack();
  rules = new Map(alertRules(pack).map((r) => [r.alert, r]));
  const svc = only(pack, 'Service');
  webhook = { job: svc.metadata.name, namespace: svc.metadata.namespace!, pod: 'warden-webhook-7d9f-abcde', instance: '10.1.9.9:8443' };
  writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: ruleGroups(pack) }));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const sel = (name: string, labels: Record<string, string>) => `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`;

interface Case {
  readonly alert: string;
  readonly name: string;
  readonly series: ReadonlyArray<readonly [string, string]>;
  readonly at: string;
  /** The alert's own labels on top of the rule's; undefined: no alert expected. */
  readonly fires?: Record<string, string>;
  /** What each `{{ $value ... }}` of the annotations expands to. */
  readonly value?: string;
}

/** Every alert has at least one case that fires and one that stays quiet (checked below). */
const cases = (): Case[] => {
  const w = webhook;
  const wj = { namespace: w.namespace, job: w.job };
  return [
    { alert: 'McpWardenSidecarDown', name: 'down for 5 minutes', series: [[sel('up', SIDECAR), '1 0x10']], at: '7m', fires: SIDECAR },
    { alert: 'McpWardenSidecarDown', name: 'down for 2 minutes, then up', series: [[sel('up', SIDECAR), '1 1 1 1 1 0 0 1 1 1']], at: '7m' },
    { alert: 'McpWardenSidecarRestarting', name: 'three restarts', series: [[sel('mcp_warden_process_start_time_seconds', SIDECAR), '100 160 220 280 280']], at: '4m', fires: SIDECAR, value: '3' },
    { alert: 'McpWardenSidecarRestarting', name: 'two restarts', series: [[sel('mcp_warden_process_start_time_seconds', SIDECAR), '100 100 160 220 220']], at: '4m' },
    {
      alert: 'McpWardenHighErrorRate',
      name: 'half the answers 5xx',
      series: [
        [sel('mcp_warden_requests_total', { ...SIDECAR, class: '5xx', method: 'POST' }), '0+10x20'],
        [sel('mcp_warden_requests_total', { ...SIDECAR, class: '2xx', method: 'POST' }), '0+10x20'],
      ],
      at: '15m',
      fires: POD,
      value: '50%',
    },
    {
      alert: 'McpWardenHighErrorRate',
      name: '1% 5xx',
      series: [
        [sel('mcp_warden_requests_total', { ...SIDECAR, class: '5xx', method: 'POST' }), '0+1x20'],
        [sel('mcp_warden_requests_total', { ...SIDECAR, class: '2xx', method: 'POST' }), '0+99x20'],
      ],
      at: '15m',
    },
    {
      alert: 'McpWardenUpstreamErrors',
      name: 'half the requests refused upstream',
      series: [
        [sel('mcp_warden_upstream_errors_total', { ...SIDECAR, kind: 'refused' }), '0+5x20'],
        [sel('mcp_warden_requests_total', { ...SIDECAR, class: '5xx', method: 'POST' }), '0+5x20'],
        [sel('mcp_warden_requests_total', { ...SIDECAR, class: '2xx', method: 'POST' }), '0+5x20'],
      ],
      at: '10m',
      fires: POD,
      value: '50%',
    },
    {
      alert: 'McpWardenUpstreamErrors',
      name: 'no upstream errors',
      series: [
        [sel('mcp_warden_upstream_errors_total', { ...SIDECAR, kind: 'refused' }), '0+0x20'],
        [sel('mcp_warden_requests_total', { ...SIDECAR, class: '2xx', method: 'POST' }), '0+10x20'],
      ],
      at: '10m',
    },
    { alert: 'McpWardenAuthFailureSpike', name: 'two bad keys a second', series: [[sel('mcp_warden_auth_failures_total', { ...SIDECAR, reason: 'ERR_AUTH_INVALID_KEY' }), '0+120x20']], at: '15m', fires: POD, value: '2' },
    {
      alert: 'McpWardenAuthFailureSpike',
      name: 'IdP outages (their own alert) and a slow trickle of bad keys',
      series: [
        [sel('mcp_warden_auth_failures_total', { ...SIDECAR, reason: 'ERR_AUTH_IDP_UNAVAILABLE' }), '0+600x20'],
        [sel('mcp_warden_auth_failures_total', { ...SIDECAR, reason: 'ERR_AUTH_INVALID_KEY' }), '0+30x20'],
      ],
      at: '15m',
    },
    { alert: 'McpWardenIdpUnreachable', name: 'JWKS fetches failing', series: [[sel('mcp_warden_jwt_failures_total', { ...SIDECAR, reason: 'idp_unavailable' }), '0+1x20']], at: '10m', fires: POD },
    { alert: 'McpWardenIdpUnreachable', name: '503s with the IdP unavailable code', series: [[sel('mcp_warden_auth_failures_total', { ...SIDECAR, reason: 'ERR_AUTH_IDP_UNAVAILABLE' }), '0+1x20']], at: '10m', fires: POD },
    { alert: 'McpWardenIdpUnreachable', name: 'expired tokens only', series: [[sel('mcp_warden_jwt_failures_total', { ...SIDECAR, reason: 'expired' }), '0+60x20']], at: '10m' },
    { alert: 'McpWardenRateLimited', name: 'two refusals a second for 15 minutes', series: [[sel('mcp_warden_rate_limited_total', { ...SIDECAR, limit: 'identity' }), '0+120x30']], at: '20m', fires: { ...POD, limit: 'identity' }, value: '2' },
    { alert: 'McpWardenRateLimited', name: 'an occasional refusal', series: [[sel('mcp_warden_rate_limited_total', { ...SIDECAR, limit: 'identity' }), '0+30x30']], at: '20m' },
    { alert: 'McpWardenDlpMatches', name: 'two AWS keys redacted', series: [[sel('mcp_warden_dlp_redactions_total', { ...SIDECAR, rule: 'aws-access-key-id', direction: 'response' }), '0 0 0 2 2 2']], at: '5m', fires: { ...POD, rule: 'aws-access-key-id', direction: 'response' }, value: '2' },
    { alert: 'McpWardenDlpMatches', name: 'old matches only', series: [[sel('mcp_warden_dlp_redactions_total', { ...SIDECAR, rule: 'aws-access-key-id', direction: 'response' }), '2x20']], at: '15m' },
    { alert: 'McpWardenWebhookDown', name: 'the only replica down', series: [[sel('up', w), '0x10']], at: '7m', fires: wj },
    { alert: 'McpWardenWebhookDown', name: 'never scraped at all', series: [[sel('up', SIDECAR), '1x10']], at: '7m', fires: wj },
    {
      alert: 'McpWardenWebhookDown',
      name: 'one of two replicas up',
      series: [
        [sel('up', w), '0x10'],
        [sel('up', { ...w, pod: 'warden-webhook-7d9f-fghij', instance: '10.1.9.10:8443' }), '1x10'],
      ],
      at: '7m',
    },
    {
      alert: 'McpWardenWebhookErrors',
      name: 'one admission in ten a 500',
      series: [
        [sel('mcp_warden_webhook_admissions_total', { ...w, result: 'error' }), '0+1x20'],
        [sel('mcp_warden_webhook_admissions_total', { ...w, result: 'injected' }), '0+9x20'],
      ],
      at: '15m',
      fires: wj,
      value: '10%',
    },
    {
      alert: 'McpWardenWebhookErrors',
      name: 'many rejected pods, no errors',
      series: [
        [sel('mcp_warden_webhook_admissions_total', { ...w, result: 'rejected' }), '0+50x20'],
        [sel('mcp_warden_webhook_admissions_total', { ...w, result: 'injected' }), '0+9x20'],
      ],
      at: '15m',
    },
    {
      alert: 'McpWardenWebhookSlow',
      name: 'admissions between 0.1 and 1 s',
      series: [
        [sel('mcp_warden_webhook_admission_duration_seconds_bucket', { ...w, le: '0.1' }), '0+0x20'],
        [sel('mcp_warden_webhook_admission_duration_seconds_bucket', { ...w, le: '1' }), '0+10x20'],
        [sel('mcp_warden_webhook_admission_duration_seconds_bucket', { ...w, le: '+Inf' }), '0+10x20'],
      ],
      at: '15m',
      fires: wj,
      value: '991ms',
    },
    {
      alert: 'McpWardenWebhookSlow',
      name: 'admissions under 0.1 s',
      series: [
        [sel('mcp_warden_webhook_admission_duration_seconds_bucket', { ...w, le: '0.1' }), '0+10x20'],
        [sel('mcp_warden_webhook_admission_duration_seconds_bucket', { ...w, le: '1' }), '0+10x20'],
        [sel('mcp_warden_webhook_admission_duration_seconds_bucket', { ...w, le: '+Inf' }), '0+10x20'],
      ],
      at: '15m',
    },
    // time() is the evaluation time in seconds since the epoch of the test (0).
    { alert: 'McpWardenWebhookCertificateExpiring', name: 'ten days left', series: [[sel('mcp_warden_webhook_cert_expiry_timestamp_seconds', w), '864000x40']], at: '30m', fires: wj, value: '9d 23h 30m 0s' },
    { alert: 'McpWardenWebhookCertificateExpiring', name: 'thirty days left', series: [[sel('mcp_warden_webhook_cert_expiry_timestamp_seconds', w), '2592000x40']], at: '30m' },
    { alert: 'McpWardenWebhookCertificateReloadFailing', name: 'failing every minute', series: [[sel('mcp_warden_webhook_cert_reloads_total', { ...w, outcome: 'error' }), '0+1x40']], at: '35m', fires: { namespace: w.namespace, job: w.job, pod: w.pod } },
    {
      alert: 'McpWardenWebhookCertificateReloadFailing',
      name: 'one failure long ago, reloads fine since',
      series: [
        [sel('mcp_warden_webhook_cert_reloads_total', { ...w, outcome: 'error' }), '0 1x40'],
        [sel('mcp_warden_webhook_cert_reloads_total', { ...w, outcome: 'ok' }), '0+1x40'],
      ],
      at: '35m',
    },
  ];
};

/** An annotation as Prometheus expands it for these labels and this value (the rule's own template text). */
function expand(template: string, labels: Record<string, string>, value: string | undefined): string {
  const out = template
    .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, k: string) => labels[k] ?? assert.fail(`no label ${k} in ${JSON.stringify(labels)}`))
    .replace(/\{\{ \$value(?: \| \w+)? \}\}/g, () => value ?? assert.fail(`the case gives no value for ${template}`));
  assert.doesNotMatch(out, /\{\{/, `a template the test does not expand: ${out}`);
  return out;
}

function promtoolTests(all: readonly Case[]): unknown {
  return {
    rule_files: ['rules.yaml'],
    evaluation_interval: '1m',
    tests: all.map((c) => {
      const rule = rules.get(c.alert) ?? assert.fail(`no alert ${c.alert} in the rendered rules`);
      const labels = c.fires ? { ...c.fires, ...rule.labels } : undefined;
      return {
        name: `${c.alert}: ${c.name}`,
        interval: '1m',
        input_series: c.series.map(([series, values]) => ({ series, values })),
        alert_rule_test: [
          {
            eval_time: c.at,
            alertname: c.alert,
            exp_alerts: labels ? [{ exp_labels: labels, exp_annotations: Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, expand(v, labels, c.value)])) }] : [],
          },
        ],
      };
    }),
  };
}

const run = (args: string[]) =>
  new Promise<{ code: number; out: string }>((resolve) => {
    execFile(promtool, args, { cwd: dir, timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }));
  });

test('promtool check rules accepts every rendered rule', async () => {
  const r = await run(['check', 'rules', 'rules.yaml']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, new RegExp(`SUCCESS: ${rules.size} rules found`));
});

test('promtool test rules: every alert fires when it should and stays quiet when it should not', async () => {
  const all = cases();
  for (const alert of rules.keys()) {
    assert.ok(all.some((c) => c.alert === alert && c.fires), `${alert} has no case where it fires`);
    assert.ok(all.some((c) => c.alert === alert && !c.fires), `${alert} has no case where it stays quiet`);
  }
  writeFileSync(join(dir, 'tests.yaml'), stringify(promtoolTests(all)));
  const r = await run(['test', 'rules', 'tests.yaml']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /SUCCESS/);
});

test('the promtool harness can fail: a quiet case that expects an alert, and a wrong value, are both reported', async () => {
  const all = cases();
  const quiet = all.find((c) => c.alert === 'McpWardenSidecarDown' && !c.fires)!;
  const valued = all.find((c) => c.alert === 'McpWardenHighErrorRate' && c.fires)!;
  writeFileSync(join(dir, 'wrong.yaml'), stringify(promtoolTests([{ ...quiet, fires: SIDECAR }, { ...valued, value: '49%' }])));
  const r = await run(['test', 'rules', 'wrong.yaml']);
  assert.notEqual(r.code, 0);
  assert.match(r.out, /McpWardenSidecarDown: down for 2 minutes, then up/);
  assert.match(r.out, /McpWardenHighErrorRate: half the answers 5xx/);
});
