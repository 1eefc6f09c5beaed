/**
 * The contract with the chart, checked from this side: the webhook config.yaml the chart renders
 * for each of its CI value sets is accepted by the webhook's own parser (unknown keys, types and
 * sidecar.env names included), and injecting with it yields a valid pod.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseWebhookConfigText } from '../../webhook/config.ts';
import { inject } from '../../webhook/inject/inject.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CHART = join(ROOT, 'charts', 'mcp-warden');
const HELM = join(ROOT, 'node_modules', '.bin', 'helm');
const ready = existsSync(join(CHART, 'Chart.yaml')) && existsSync(HELM);

test('every chart CI value set renders a config.yaml the webhook accepts', { skip: ready ? false : 'chart or helm not present' }, () => {
  const sets = readdirSync(join(CHART, 'ci')).filter((f) => f.endsWith('.yaml'));
  assert.ok(sets.length > 0);
  for (const set of sets) {
    const out = execFileSync(HELM, ['template', 't', CHART, '-n', 'mcp-warden', '-f', join(CHART, 'ci', set)], { encoding: 'utf8' });
    const cm = parseAllDocuments(out).map((d) => d.toJS()).find((o) => o?.kind === 'ConfigMap' && typeof o.data?.['config.yaml'] === 'string');
    assert.ok(cm, `${set}: a ConfigMap with config.yaml`);
    const config = parseWebhookConfigText(cm.data['config.yaml'], `${set}: config.yaml`);
    const pod = { metadata: { name: 'p', annotations: { 'mcp-warden.dev/inject': 'true', 'mcp-warden.dev/apikey-secret': 'keys' } }, spec: { containers: [{ name: 's', image: 'i', ports: [{ name: 'mcp', containerPort: 3000 }] }] } };
    const r = inject(pod, 'apps', config, { nativeSidecar: true });
    assert.equal(r.action, 'injected', r.action === 'rejected' ? `${set}: ${r.error.message}` : set);
  }
});
