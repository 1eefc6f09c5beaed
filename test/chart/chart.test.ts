/**
 * Acceptance tests of charts/mcp-warden with the real helm binary: lint and render every ci/
 * values file against a new (1.33, ValidatingAdmissionPolicy served) and an old (1.29) cluster,
 * validate every object against the Kubernetes schemas, and check the properties the chart
 * promises: restricted pods, least-privilege RBAC, system namespaces never matched, the
 * webhook's config file in the contract's shape, and a schema that rejects typos.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { parse as parseYaml } from 'yaml';
import { checkSelector, matches } from './label-selector.ts';
import type { LabelSelector } from './label-selector.ts';
import { restrictedViolations } from './restricted-pss.ts';
import { gvk, schemaErrors } from './k8s-schema.ts';
import { valuesKeys } from './values-doc.ts';
import { WEBHOOK_OWNED_ENV, parseWebhookConfigText } from '../../webhook/config.ts';
import { SETTINGS } from '../../sidecar/settings.ts';
import { WEBHOOK_POD_LABELS } from '../../webhook/inject/decide.ts';
import { inject } from '../../webhook/inject/inject.ts';
import { CHART, NEW_CLUSTER, OLD_CLUSTER, RELEASE_NAMESPACE, get, helm, isObj, list, obj, pool, render, templateArgs } from './render.ts';
import type { Capabilities, Json, K8sObject } from './render.ts';

const CI_DIR = join(CHART, 'ci');
const CI_FILES = readdirSync(CI_DIR).filter((f) => f.endsWith('.yaml')).sort();
const APP_VERSION = String((parseYaml(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as Json).appVersion);
/** Where a rendering's namespaced objects go: the release namespace unless namespaceOverride says otherwise. */
const nsOf = (r: Rendering): string => String(get(r.values, 'namespaceOverride') || RELEASE_NAMESPACE);
const systemNamespaces = (r: Rendering): string[] => ['kube-system', 'kube-public', 'kube-node-lease', nsOf(r)];
const CLUSTER_SCOPED = new Set(['MutatingWebhookConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'ClusterRole', 'ClusterRoleBinding']);
/** The webhook container's port (webhook.port). */
const portOf = (r: Rendering): number => Number(get(r.values, 'webhook.port') ?? 8443);
const CLUSTERS: Record<string, Capabilities> = { new: NEW_CLUSTER, old: OLD_CLUSTER };

interface Rendering {
  file: string;
  cluster: string;
  values: Json;
  objects: K8sObject[];
}
let renderings: Rendering[] = [];
let lints: { file: string; code: number; output: string }[] = [];

const one = (objs: K8sObject[], kind: string, where: string): K8sObject => {
  const found = objs.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `${where}: expected exactly one ${kind}, got ${found.length}`);
  return found[0] as K8sObject;
};
const all = (objs: K8sObject[], kind: string): K8sObject[] => objs.filter((o) => o.kind === kind);
const where = (r: Rendering): string => `${r.file} on the ${r.cluster} cluster`;
const webhookDeployment = (r: Rendering): K8sObject =>
  one(all(r.objects, 'Deployment'), 'Deployment', where(r));
const podSpecOf = (d: K8sObject): Json => obj(get(d, 'spec.template.spec'), `${d.metadata.name} pod spec`);
const webhookOf = (r: Rendering): Json => {
  const mwc = one(r.objects, 'MutatingWebhookConfiguration', where(r));
  const hooks = list(mwc.webhooks, 'webhooks');
  assert.equal(hooks.length, 1, `${where(r)}: one webhook`);
  return obj(hooks[0], 'webhooks[0]');
};
/** The webhook's ConfigMap (the monitoring pack may render a dashboard ConfigMap beside it). */
const configMapOf = (r: Rendering): K8sObject => one(r.objects.filter((o) => o.kind !== 'ConfigMap' || isObj(o.data) && 'config.yaml' in o.data), 'ConfigMap', where(r));
const configOf = (r: Rendering): Json => {
  const cm = configMapOf(r);
  return obj(parseYaml(String(obj(cm.data, 'data')['config.yaml'])), `${where(r)} config.yaml`);
};

before(async () => {
  assert.ok(CI_FILES.length >= 6, `expected at least 6 ci values files, found ${CI_FILES.join(', ')}`);
  const jobs = CI_FILES.flatMap((file) => [
    { kind: 'lint' as const, file, cluster: '' },
    ...Object.keys(CLUSTERS).map((cluster) => ({ kind: 'template' as const, file, cluster })),
  ]);
  const results = await pool(jobs, 3, async (job) => {
    const path = join(CI_DIR, job.file);
    if (job.kind === 'lint') {
      const r = await helm(['lint', '--strict', CHART, '--namespace', RELEASE_NAMESPACE, '--values', path]);
      return { job, lint: { file: job.file, code: r.code, output: r.stdout + r.stderr } };
    }
    const objects = await render(path, CLUSTERS[job.cluster] as Capabilities);
    const values = (parseYaml(readFileSync(path, 'utf8')) ?? {}) as Json;
    return { job, rendering: { file: job.file, cluster: job.cluster, values, objects } };
  });
  lints = results.flatMap((r) => ('lint' in r && r.lint ? [r.lint] : []));
  renderings = results.flatMap((r) => ('rendering' in r && r.rendering ? [r.rendering] : []));
});

describe('helm lint and template', () => {
  test('helm lint --strict passes for every ci/ values file', () => {
    assert.equal(lints.length, CI_FILES.length);
    for (const l of lints) assert.equal(l.code, 0, `helm lint --strict -f ci/${l.file}:\n${l.output}`);
  });

  test('every ci/ values file renders on both clusters, with no duplicate objects', () => {
    assert.equal(renderings.length, CI_FILES.length * 2);
    for (const r of renderings) {
      const ids = r.objects.map((o) => `${gvk(o)} ${o.metadata.namespace ?? ''}/${o.metadata.name}`);
      assert.equal(new Set(ids).size, ids.length, `${where(r)}: duplicate objects in ${ids.join(', ')}`);
      for (const o of r.objects) {
        assert.match(o.metadata.name, /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, `${where(r)}: bad name ${o.metadata.name}`);
        assert.equal(o.metadata.labels?.['app.kubernetes.io/instance'], 'warden-test', `${where(r)}: ${gvk(o)} ${o.metadata.name} lacks the instance label`);
        // Namespaced objects name their namespace (namespaceOverride reaches every one); helm
        // would put an object without one in the release namespace. The Grafana dashboard goes
        // where Grafana's sidecar watches, when monitoring.dashboard.namespace says so.
        const dashboardNs = o.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboard') ? get(r.values, 'monitoring.dashboard.namespace') : undefined;
        assert.equal(o.metadata.namespace, CLUSTER_SCOPED.has(o.kind) ? undefined : String(dashboardNs || nsOf(r)), `${where(r)}: namespace of ${gvk(o)} ${o.metadata.name}`);
      }
    }
  });

  test('a values typo fails helm template with a schema error naming the key', async () => {
    const r = await helm(templateArgs(undefined, NEW_CLUSTER, ['--set', 'replicaCuont=3', '--set', 'webhook.failurPolicy=Fail', '--set', 'sidecar.env.MCP_AUTH_KEY=oops', '--set', 'tls.mode=selfmanaged']));
    assert.notEqual(r.code, 0, 'helm template accepted bad values');
    assert.match(r.stderr, /schema/);
    assert.match(r.stderr, /additional properties 'replicaCuont' not allowed/);
    assert.match(r.stderr, /additional properties 'failurPolicy' not allowed/);
    assert.match(r.stderr, /MCP_AUTH_KEY/, 'secrets are refused in sidecar.env');
    assert.match(r.stderr, /tls\/mode/, 'an unknown tls.mode is named');
  });
});

describe('values documentation', () => {
  test('every key in values.yaml is commented and in the README values table', () => {
    const keys = valuesKeys(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
    assert.ok(keys.length > 40, `parsed ${keys.length} keys`);
    const undocumented = keys.filter((k) => k.leaf && !k.documented && !k.coveredByParent).map((k) => `line ${k.line}: ${k.path}`);
    assert.deepEqual(undocumented, []);
    const readme = readFileSync(join(CHART, 'README.md'), 'utf8');
    const missing = keys.filter((k) => k.documented && !readme.includes(`| \`${k.path}\` |`)).map((k) => k.path);
    assert.deepEqual(missing, [], 'keys missing from the README values table');
  });
});

describe('Kubernetes schemas and pod security', () => {
  test('every rendered object validates against the Kubernetes 1.33 schemas', () => {
    const errors = renderings.flatMap((r) => r.objects.map(schemaErrors).filter((e) => e !== undefined).map((e) => `${where(r)}: ${e}`));
    assert.deepEqual(errors, []);
  });

  test('cert-manager and ServiceMonitor objects have the structure their CRDs require', () => {
    let certs = 0;
    let monitors = 0;
    for (const r of renderings) {
      const svc = one(r.objects, 'Service', where(r));
      for (const o of r.objects) {
        if (o.kind === 'Issuer') {
          const kinds = ['selfSigned', 'ca', 'acme', 'vault', 'venafi'].filter((k) => get(o, `spec.${k}`) !== undefined);
          assert.equal(kinds.length, 1, `${where(r)}: Issuer ${o.metadata.name} needs exactly one issuer type, got ${kinds.join(',')}`);
          if (kinds[0] === 'ca') assert.equal(typeof get(o, 'spec.ca.secretName'), 'string');
        }
        if (o.kind === 'Certificate') {
          certs++;
          assert.equal(typeof get(o, 'spec.secretName'), 'string');
          assert.equal(typeof get(o, 'spec.issuerRef.name'), 'string');
          assert.ok(['Issuer', 'ClusterIssuer'].includes(String(get(o, 'spec.issuerRef.kind'))));
          if (get(o, 'spec.isCA') !== true) {
            const dns = list(get(o, 'spec.dnsNames'), 'dnsNames');
            assert.ok(dns.includes(`${svc.metadata.name}.${nsOf(r)}.svc`), `${where(r)}: serving certificate must name the Service: ${dns.join(',')}`);
          }
        }
        if (o.kind === 'ServiceMonitor') {
          monitors++;
          const sel = obj(get(o, 'spec.selector'), 'selector') as LabelSelector;
          assert.ok(matches(sel, svc.metadata.labels ?? {}), `${where(r)}: ServiceMonitor selector misses the Service`);
          const ep = obj(list(get(o, 'spec.endpoints'), 'endpoints')[0], 'endpoints[0]');
          assert.equal(ep.port, 'https');
          assert.equal(ep.scheme, 'https');
          assert.equal(ep.path, '/metrics');
          assert.equal(get(ep, 'tlsConfig.insecureSkipVerify'), undefined, 'scrapes verify the certificate');
        }
      }
    }
    assert.ok(certs >= 4 && monitors >= 2, `cert-manager ci files render certificates (${certs}) and a ServiceMonitor (${monitors})`);
  });

  test('the checker catches what the restricted profile forbids', () => {
    const bad = restrictedViolations({
      hostNetwork: true,
      volumes: [{ name: 'h', hostPath: { path: '/' } }],
      containers: [{ name: 'x', securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } } }],
    });
    for (const expected of ['hostNetwork', 'hostPath', 'privileged', 'allowPrivilegeEscalation', 'runAsNonRoot', 'seccompProfile', 'drop', 'SYS_ADMIN', 'readOnlyRootFilesystem']) {
      assert.ok(bad.some((v) => v.includes(expected)), `no violation mentions ${expected}: ${bad.join('\n')}`);
    }
  });

  test('the webhook pods and the helm test pod pass the restricted Pod Security Standard', () => {
    for (const r of renderings) {
      const pods: [string, unknown][] = [['webhook', podSpecOf(webhookDeployment(r))]];
      for (const p of all(r.objects, 'Pod')) pods.push([p.metadata.name, p.spec]);
      // hostNetwork is the one thing the restricted (and baseline) profile forbids that a value may
      // ask for (GKE private clusters, EKS custom CNI); nothing else may come with it.
      const allowed = get(r.values, 'hostNetwork') === true ? ['spec.hostNetwork: true is forbidden'] : [];
      for (const [name, spec] of pods) assert.deepEqual(restrictedViolations(spec), name === 'webhook' ? allowed : [], `${where(r)}: ${name}`);
    }
  });
});

describe('the webhook Deployment', () => {
  test('two replicas spread over nodes, a PDB, HTTPS probes, the contract env and labels', () => {
    const defaults = renderings.filter((x) => x.file === 'defaults-values.yaml');
    assert.equal(defaults.length, Object.keys(CLUSTERS).length, 'the defaults are rendered for every cluster');
    for (const r of defaults) {
      const d = webhookDeployment(r);
      assert.equal(get(d, 'spec.replicas'), 2);
      const pdb = one(r.objects, 'PodDisruptionBudget', where(r));
      assert.equal(get(pdb, 'spec.minAvailable'), 1);
      const labels = obj(get(d, 'spec.template.metadata.labels'), 'pod labels');
      // The labels the webhook recognises its own pods by (it never mutates them).
      for (const [k, v] of Object.entries(WEBHOOK_POD_LABELS)) assert.equal(labels[k], v, `pod label ${k}`);
      assert.ok(matches(obj(get(pdb, 'spec.selector'), 'pdb selector') as LabelSelector, labels as Record<string, string>));
      const spec = podSpecOf(d);
      const spread = obj(list(spec.topologySpreadConstraints, 'topologySpreadConstraints')[0], 'spread');
      assert.equal(spread.topologyKey, 'kubernetes.io/hostname');
      assert.ok(matches(spread.labelSelector as LabelSelector, labels as Record<string, string>), 'spread selects the webhook pods');
      const c = obj(list(spec.containers, 'containers')[0], 'container');
      assert.equal(c.image, `ghcr.io/mcp-warden/webhook:${APP_VERSION}`);
      assert.deepEqual(c.ports, [{ name: 'https', containerPort: 8443, protocol: 'TCP' }]);
      for (const [probe, path] of [['livenessProbe', '/livez'], ['readinessProbe', '/readyz']]) {
        assert.deepEqual(get(c, `${probe}.httpGet`), { path, port: 'https', scheme: 'HTTPS' }, probe);
      }
      const env = Object.fromEntries(list(c.env, 'env').map((e) => [get(e, 'name'), get(e, 'value') ?? get(e, 'valueFrom.fieldRef.fieldPath')]));
      assert.deepEqual(env, { MCP_WARDEN_WEBHOOK_CONFIG: '/etc/mcp-warden/config.yaml', POD_NAMESPACE: 'metadata.namespace', POD_NAME: 'metadata.name' });
      const mount = list(c.volumeMounts, 'volumeMounts').map((m) => obj(m, 'mount')).find((m) => m.mountPath === '/etc/mcp-warden/config.yaml');
      assert.equal(mount?.subPath, 'config.yaml');
      const svc = one(r.objects, 'Service', where(r));
      assert.deepEqual(get(svc, 'spec.ports'), [{ name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }]);
      assert.ok(matches({ matchLabels: obj(get(svc, 'spec.selector'), 'svc selector') as Record<string, string> }, labels as Record<string, string>));
    }
  });

  test('a config change changes the pod template checksum; the same config keeps it', () => {
    const sum = (file: string, cluster: string): unknown => {
      const r = renderings.find((x) => x.file === file && x.cluster === cluster);
      assert.ok(r);
      return get(webhookDeployment(r), 'spec.template.metadata.annotations.checksum/config');
    };
    assert.match(String(sum('defaults-values.yaml', 'new')), /^[0-9a-f]{64}$/);
    assert.equal(sum('defaults-values.yaml', 'new'), sum('defaults-values.yaml', 'old'));
    assert.notEqual(sum('defaults-values.yaml', 'new'), sum('custom-sidecar-image-values.yaml', 'new'));
  });

  test('options: priority class, one replica without PDB, pull secrets', () => {
    const custom = renderings.find((x) => x.file === 'custom-sidecar-image-values.yaml');
    const off = renderings.find((x) => x.file === 'policy-off-values.yaml');
    assert.ok(custom && off);
    assert.equal(podSpecOf(webhookDeployment(custom)).priorityClassName, 'system-cluster-critical');
    assert.deepEqual(podSpecOf(webhookDeployment(custom)).imagePullSecrets, [{ name: 'regcred' }]);
    assert.equal(get(webhookDeployment(off), 'spec.replicas'), 1);
    assert.equal(all(off.objects, 'PodDisruptionBudget').length, 0, 'no PDB for a single replica');
    assert.equal(all(off.objects, 'Pod').length, 0, 'tests.enabled=false drops the test pod');
  });
});

describe("the webhook's config file", () => {
  const CONTRACT: Record<string, readonly string[]> = {
    '': ['server', 'tls', 'nativeSidecar', 'excludeNamespaces', 'sidecar'],
    server: ['port'],
    tls: ['mode', 'certFile', 'keyFile', 'secretName', 'serviceName', 'webhookConfigName', 'validityDays', 'renewBeforeDays'],
    sidecar: ['image', 'imagePullPolicy', 'resources', 'listenPort', 'adminPort', 'stdioListenPort', 'stdioAdminPort', 'runAsUser', 'env', 'redisPasswordSecret'],
  };

  test('config.yaml has exactly the contract keys, types and names of the rendered objects', () => {
    for (const r of renderings) {
      const c = configOf(r);
      for (const [section, keys] of Object.entries(CONTRACT)) {
        const o = section === '' ? c : obj(c[section], `${where(r)} ${section}`);
        assert.deepEqual(Object.keys(o).sort(), [...keys].sort(), `${where(r)}: keys of ${section || 'the top level'}`);
      }
      assert.equal(get(c, 'server.port'), portOf(r));
      const mode = get(c, 'tls.mode');
      const chartMode = String(get(r.values, 'tls.mode') ?? 'self-managed');
      assert.equal(mode, chartMode === 'self-managed' ? 'self-managed' : 'provided', `${where(r)}: tls.mode`);
      assert.ok(['auto', 'true', 'false'].includes(String(c.nativeSidecar)) && typeof c.nativeSidecar === 'string');
      for (const k of ['validityDays', 'renewBeforeDays']) assert.ok(Number.isInteger(get(c, `tls.${k}`)));
      for (const k of ['listenPort', 'adminPort', 'stdioListenPort', 'stdioAdminPort']) assert.ok(Number.isInteger(get(c, `sidecar.${k}`)));
      const env = obj(get(c, 'sidecar.env'), 'sidecar.env');
      for (const [k, v] of Object.entries(env)) {
        assert.match(k, /^MCP_AUTH_[A-Z0-9_]+$/);
        // Strings, or the plain numbers and booleans the schema allows for settings that take them.
        assert.ok(['string', 'number', 'boolean'].includes(typeof v), `${where(r)}: sidecar.env.${k} must be a scalar`);
      }
      const excluded = list(c.excludeNamespaces, 'excludeNamespaces');
      for (const ns of ['kube-system', 'kube-public', 'kube-node-lease']) assert.ok(excluded.includes(ns));
      // The names the webhook uses are the names the chart gave the objects.
      assert.equal(get(c, 'tls.serviceName'), one(r.objects, 'Service', where(r)).metadata.name);
      assert.equal(get(c, 'tls.webhookConfigName'), one(r.objects, 'MutatingWebhookConfiguration', where(r)).metadata.name);
      if (mode === 'provided') {
        const vol = list(podSpecOf(webhookDeployment(r)).volumes, 'volumes').map((v) => obj(v, 'volume')).find((v) => v.name === 'tls');
        assert.equal(get(vol, 'secret.secretName'), get(c, 'tls.secretName'));
      }
    }
  });

  test("the webhook's own parser accepts every rendered config.yaml, and injects with it", () => {
    const pod = { metadata: { name: 'p', annotations: { 'mcp-warden.dev/inject': 'true', 'mcp-warden.dev/apikey-secret': 'keys' } }, spec: { containers: [{ name: 's', image: 'i', ports: [{ name: 'mcp', containerPort: 3000 }] }] } };
    for (const r of renderings) {
      const cm = configMapOf(r);
      const config = parseWebhookConfigText(String(obj(cm.data, 'data')['config.yaml']), `${where(r)} config.yaml`);
      const out = inject(pod, 'apps', config, { nativeSidecar: true });
      assert.equal(out.action, 'injected', out.action === 'rejected' ? `${where(r)}: ${out.error.message}` : where(r));
    }
  });

  test('the values schema refuses exactly the secret and webhook-owned sidecar variables', () => {
    const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Json;
    const props = obj(get(schema, 'properties.sidecar.properties.env.properties'), 'sidecar.env properties');
    const refused = Object.keys(props).filter((k) => get(props[k], 'allOf') !== undefined).sort();
    const expected = [...WEBHOOK_OWNED_ENV, ...Object.values(SETTINGS).filter((s) => s.secret).map((s) => s.env)].sort();
    assert.deepEqual(refused, [...new Set(expected)].sort());
  });

  test('a Redis the cluster already runs: its URL and password Secret reach every injected sidecar that limits', () => {
    const r = renderings.find((x) => x.file === 'shared-redis-values.yaml');
    assert.ok(r);
    assert.ok(!r.objects.some((o) => JSON.stringify(o).includes('image":"redis')), 'the chart installs no Redis');
    const config = parseWebhookConfigText(String(obj(one(r.objects, 'ConfigMap', where(r)).data, 'data')['config.yaml']), where(r));
    assert.deepEqual(config.sidecar.redisPasswordSecret, { name: 'mcp-warden-redis', key: 'password' });
    const pod = { metadata: { name: 'p', annotations: { 'mcp-warden.dev/inject': 'true' } }, spec: { containers: [{ name: 's', image: 'i', ports: [{ name: 'mcp', containerPort: 3000 }] }] } };
    const out = inject(pod, 'apps', config, { nativeSidecar: true });
    assert.equal(out.action, 'injected', out.action === 'rejected' ? out.error.message : '');
    if (out.action !== 'injected') return;
    const spec = out.object.spec;
    const env = Object.fromEntries((spec.initContainers![0]!.env as { name: string; value: string }[]).map((e) => [e.name, e.value]));
    assert.equal(env.MCP_AUTH_RATE_LIMIT_REDIS_URL, 'rediss://redis-master.infra.svc:6380/0');
    assert.equal(env.MCP_AUTH_RATE_LIMIT_REDIS_PASSWORD_FILE, '/var/run/mcp-warden/redis/password');
    assert.deepEqual(spec.volumes?.find((v) => v.name === 'mcp-warden-redis'), { name: 'mcp-warden-redis', secret: { secretName: 'mcp-warden-redis', items: [{ key: 'password', path: 'password' }] } });
  });

  test('sidecar image and defaults come from the values', () => {
    const d = renderings.find((x) => x.file === 'defaults-values.yaml');
    const custom = renderings.find((x) => x.file === 'custom-sidecar-image-values.yaml');
    assert.ok(d && custom);
    assert.equal(get(configOf(d), 'sidecar.image'), `ghcr.io/mcp-warden/sidecar:${APP_VERSION}`);
    assert.deepEqual(get(configOf(d), 'sidecar.env'), { MCP_AUTH_DLP_MODE: 'redact', MCP_AUTH_HEADER: 'X-API-Key', MCP_AUTH_LOG_LEVEL: 'info', MCP_AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE: '600' });
    const cc = configOf(custom);
    assert.equal(get(cc, 'sidecar.image'), 'registry.example.com/mirror/mcp-warden-sidecar@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef');
    assert.equal(get(cc, 'sidecar.imagePullPolicy'), 'Always');
    assert.equal(get(cc, 'sidecar.listenPort'), 18080);
    assert.equal(get(cc, 'sidecar.env.MCP_AUTH_RATE_LIMIT_PER_IP_PER_MINUTE'), '120');
    assert.deepEqual(get(cc, 'sidecar.resources.limits'), { memory: '512Mi' });
  });
});

describe('admission configuration', () => {
  const nsLabels = (name: string, sel: LabelSelector): Record<string, string> =>
    // The worst case: the namespace also carries every label the selector asks for.
    ({ ...(sel.matchLabels ?? {}), 'kubernetes.io/metadata.name': name });

  test('the label-selector evaluator follows Kubernetes semantics', () => {
    const sel: LabelSelector = { matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'NotIn', values: ['x'] }, { key: 'c', operator: 'DoesNotExist' }] };
    assert.equal(matches(sel, { a: '1' }), true, 'NotIn and DoesNotExist match a missing key');
    assert.equal(matches(sel, { a: '1', b: 'x' }), false);
    assert.equal(matches(sel, { a: '1', c: '' }), false);
    assert.equal(matches(sel, { a: '2' }), false);
    assert.equal(matches({ matchExpressions: [{ key: 'k', operator: 'In', values: ['v'] }] }, {}), false);
    assert.equal(matches({ matchExpressions: [{ key: 'k', operator: 'Exists' }] }, { k: '' }), true);
    assert.equal(matches({}, { any: 'thing' }), true);
    assert.throws(() => checkSelector({ matchExpressions: [{ key: 'k', operator: 'In' }] }, 'sel'), /sel.matchExpressions\[0\].values/);
  });

  test('no system namespace or the release namespace can be matched; ordinary namespaces can', () => {
    for (const r of renderings) {
      const selectors: [string, LabelSelector][] = [['MutatingWebhookConfiguration', webhookOf(r).namespaceSelector as LabelSelector]];
      for (const vap of all(r.objects, 'ValidatingAdmissionPolicy')) selectors.push(['ValidatingAdmissionPolicy', get(vap, 'spec.matchConstraints.namespaceSelector') as LabelSelector]);
      const extra = list(get(r.values, 'webhook.excludeNamespaces'), 'excludeNamespaces').map(String);
      for (const [kind, sel] of selectors) {
        assert.ok(isObj(sel), `${where(r)}: ${kind} has a namespaceSelector`);
        checkSelector(sel, `${kind}.namespaceSelector`);
        for (const ns of [...systemNamespaces(r), ...extra]) {
          assert.equal(matches(sel, nsLabels(ns, sel)), false, `${where(r)}: ${kind} matches namespace ${ns}`);
        }
        assert.equal(matches(sel, nsLabels('mcp-servers', sel)), true, `${where(r)}: ${kind} must match an ordinary namespace`);
      }
      // The policy ignores webhook.namespaceLabels: an opted-in pod where the webhook does not
      // look is refused, never left unprotected.
      for (const vap of all(r.objects, 'ValidatingAdmissionPolicy')) {
        const sel = get(vap, 'spec.matchConstraints.namespaceSelector') as LabelSelector;
        assert.equal(matches(sel, { 'kubernetes.io/metadata.name': 'unlabelled' }), true, `${where(r)}: the policy must cover namespaces without the webhook's labels`);
      }
    }
  });

  test('the webhook: v1 reviews, no side effects, short timeout, reinvocation, pods CREATE, not its own pods', () => {
    for (const r of renderings) {
      const w = webhookOf(r);
      assert.deepEqual(w.admissionReviewVersions, ['v1']);
      assert.equal(w.sideEffects, 'None');
      assert.equal(w.reinvocationPolicy, 'IfNeeded');
      assert.equal(w.timeoutSeconds, get(r.values, 'webhook.timeoutSeconds') ?? 5);
      assert.equal(w.failurePolicy, get(r.values, 'webhook.failurePolicy') ?? 'Ignore');
      assert.deepEqual(w.rules, [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }]);
      const svc = one(r.objects, 'Service', where(r));
      assert.deepEqual(get(w, 'clientConfig.service'), { name: svc.metadata.name, namespace: nsOf(r), path: '/mutate', port: 443 });
      const objSel = w.objectSelector as LabelSelector;
      checkSelector(objSel, 'objectSelector');
      const webhookPodLabels = obj(get(webhookDeployment(r), 'spec.template.metadata.labels'), 'labels') as Record<string, string>;
      assert.equal(matches(objSel, webhookPodLabels), false, `${where(r)}: the webhook would see its own pods`);
      const requireLabel = get(r.values, 'webhook.requireLabel') === true;
      assert.equal(matches(objSel, { app: 'mcp-server' }), !requireLabel, `${where(r)}: unlabelled pod`);
      assert.equal(matches(objSel, { app: 'mcp-server', 'mcp-warden.dev/inject': 'true' }), true, `${where(r)}: labelled pod`);
      const wantConditions = r.cluster === 'new' && get(r.values, 'webhook.matchConditions') !== false;
      assert.equal(Array.isArray(w.matchConditions), wantConditions, `${where(r)}: matchConditions`);
    }
  });

  test('caBundle and CA injection follow tls.mode', () => {
    for (const r of renderings) {
      const mode = String(get(r.values, 'tls.mode') ?? 'self-managed');
      const mwc = one(r.objects, 'MutatingWebhookConfiguration', where(r));
      const caBundle = get(webhookOf(r), 'clientConfig.caBundle');
      const inject = mwc.metadata.annotations?.['cert-manager.io/inject-ca-from'];
      if (mode === 'provided') {
        assert.equal(caBundle, get(r.values, 'tls.provided.caBundle'));
      } else {
        // Absent, not empty: an empty value would make every upgrade wipe the live CA.
        assert.equal(caBundle, undefined, `${where(r)}: caBundle must not be rendered in ${mode} mode`);
      }
      if (mode === 'cert-manager') {
        const serving = all(r.objects, 'Certificate').find((c) => get(c, 'spec.isCA') !== true);
        assert.ok(serving, `${where(r)}: a serving Certificate`);
        assert.equal(inject, `${nsOf(r)}/${serving.metadata.name}`);
        const issuer = String(get(r.values, 'tls.certManager.issuerRef.name') ?? '');
        assert.equal(all(r.objects, 'Issuer').length, issuer === '' ? 2 : 0, `${where(r)}: the chart's CA chain only without a user issuer`);
        if (issuer !== '') assert.equal(get(serving, 'spec.issuerRef.name'), issuer);
      } else {
        assert.equal(inject, undefined);
        assert.equal(all(r.objects, 'Certificate').length + all(r.objects, 'Issuer').length, 0);
      }
    }
  });

  test('the ValidatingAdmissionPolicy is rendered exactly where the API exists and it is enabled', () => {
    for (const r of renderings) {
      // auto (the default) renders where the API is served; "true" would fail on the old cluster,
      // so the ci/ files use auto and false (test/chart/policy-mode.test.ts covers every mode).
      const mode = String(get(r.values, 'validatingAdmissionPolicy.enabled') ?? 'auto');
      const want = mode === 'true' || (mode === 'auto' && r.cluster === 'new');
      const vaps = all(r.objects, 'ValidatingAdmissionPolicy');
      const bindings = all(r.objects, 'ValidatingAdmissionPolicyBinding');
      assert.equal(vaps.length, want ? 1 : 0, `${where(r)}: policy`);
      assert.equal(bindings.length, want ? 1 : 0, `${where(r)}: binding`);
      if (!want) continue;
      const vap = vaps[0] as K8sObject;
      assert.equal(get(vap, 'spec.failurePolicy'), 'Fail');
      assert.equal(get(bindings[0], 'spec.policyName'), vap.metadata.name);
      assert.deepEqual(get(bindings[0], 'spec.validationActions'), ['Deny']);
      assert.deepEqual(get(vap, 'spec.matchConstraints.resourceRules'), webhookOf(r).rules, 'the policy covers what the webhook mutates');
      assert.equal(list(get(vap, 'spec.validations'), 'validations').length, 1);
    }
  });
});

describe('RBAC', () => {
  const ALLOWED_VERBS = new Set(['get', 'patch', 'update', 'create']);

  test('least privilege: named objects, no wildcards, no cluster-wide Secrets, TLS rules only when self-managed', () => {
    for (const r of renderings) {
      const mode = String(get(r.values, 'tls.mode') ?? 'self-managed');
      const native = String(get(r.values, 'nativeSidecar') ?? 'auto');
      const roles = r.objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role');
      const rules = roles.flatMap((role) => list(role.rules, 'rules').map((rule) => ({ role, rule: obj(rule, 'rule') })));
      for (const { role, rule } of rules) {
        const at = `${where(r)}: ${role.kind} ${role.metadata.name} rule ${JSON.stringify(rule)}`;
        for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames', 'nonResourceURLs']) {
          for (const v of list(rule[field], field)) assert.ok(!String(v).includes('*'), `${at}: wildcard in ${field}`);
        }
        for (const verb of list(rule.verbs, 'verbs')) assert.ok(ALLOWED_VERBS.has(String(verb)), `${at}: verb ${String(verb)} beyond get/patch/update/create`);
        const resources = list(rule.resources, 'resources').map(String);
        if (resources.includes('secrets')) {
          assert.equal(role.kind, 'Role', `${at}: Secret access must be namespaced`);
          assert.equal(role.metadata.namespace, nsOf(r));
          const verbs = list(rule.verbs, 'verbs').map(String);
          if (!verbs.every((v) => v === 'create')) assert.ok(list(rule.resourceNames, 'resourceNames').length === 1, `${at}: get/update only on the named Secret`);
        }
        if (resources.includes('mutatingwebhookconfigurations')) {
          assert.deepEqual(rule.resourceNames, [one(r.objects, 'MutatingWebhookConfiguration', where(r)).metadata.name], `${at}: only this release's webhook configuration`);
          assert.deepEqual(rule.verbs, ['get', 'patch']);
        }
        for (const res of resources) assert.ok(['secrets', 'mutatingwebhookconfigurations'].includes(res), `${at}: unexpected resource ${res}`);
        if (rule.nonResourceURLs !== undefined) assert.deepEqual(rule.nonResourceURLs, ['/version']);
      }
      const secretRules = rules.filter(({ rule }) => list(rule.resources, 'r').includes('secrets'));
      const mwcRules = rules.filter(({ rule }) => list(rule.resources, 'r').includes('mutatingwebhookconfigurations'));
      const versionRules = rules.filter(({ rule }) => rule.nonResourceURLs !== undefined);
      assert.equal(secretRules.length, mode === 'self-managed' ? 2 : 0, `${where(r)}: Secret rules`);
      assert.equal(mwcRules.length, mode === 'self-managed' ? 1 : 0, `${where(r)}: webhook configuration rules`);
      assert.equal(versionRules.length, native === 'auto' ? 1 : 0, `${where(r)}: /version rule`);
      // Each role is bound to the webhook's ServiceAccount and nothing else.
      const sa = one(r.objects, 'ServiceAccount', where(r));
      for (const b of r.objects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')) {
        assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: nsOf(r) }]);
        assert.ok(roles.some((role) => role.kind === get(b, 'roleRef.kind') && role.metadata.name === get(b, 'roleRef.name')), `${where(r)}: binding ${b.metadata.name} refers to a rendered role`);
      }
      // The pod mounts an API token only when some rule needs one.
      assert.equal(podSpecOf(webhookDeployment(r)).automountServiceAccountToken, rules.length > 0, `${where(r)}: automountServiceAccountToken`);
      assert.equal(sa.automountServiceAccountToken, false);
    }
  });
});

describe('helm test', () => {
  test('the test pod is a hook that calls /livez on the Service with the CA, in a script that parses', () => {
    for (const r of renderings.filter((x) => get(x.values, 'tests.enabled') !== false)) {
      const pod = one(r.objects, 'Pod', where(r));
      assert.equal(pod.metadata.annotations?.['helm.sh/hook'], 'test');
      const c = obj(list(get(pod, 'spec.containers'), 'containers')[0], 'container');
      assert.equal(c.image, obj(list(podSpecOf(webhookDeployment(r)).containers, 'containers')[0], 'container').image, 'the webhook image');
      assert.deepEqual(c.command, ['/nodejs/bin/node']);
      const args = list(c.args, 'args').map(String);
      assert.equal(args[0], '-e');
      new Script(args[1] ?? '', { filename: 'helm-test.js' }); // throws on a syntax error
      assert.match(args[1] ?? '', /\/livez/);
      assert.doesNotMatch(args[1] ?? '', /rejectUnauthorized/, 'the test verifies the certificate');
      const host = list(c.env, 'env').map((e) => obj(e, 'env')).find((e) => e.name === 'HOST');
      assert.equal(host?.value, `${one(r.objects, 'Service', where(r)).metadata.name}.${nsOf(r)}.svc`);
    }
  });
});

describe('NetworkPolicy', () => {
  test('rendered on request: ingress to the webhook pods on webhook.port only', () => {
    for (const r of renderings) {
      const nps = all(r.objects, 'NetworkPolicy');
      assert.equal(nps.length, get(r.values, 'networkPolicy.enabled') === true ? 1 : 0);
      for (const np of nps) {
        const labels = obj(get(webhookDeployment(r), 'spec.template.metadata.labels'), 'labels') as Record<string, string>;
        assert.ok(matches(get(np, 'spec.podSelector') as LabelSelector, labels));
        assert.deepEqual(get(np, 'spec.policyTypes'), ['Ingress']);
        const ingress = list(get(np, 'spec.ingress'), 'ingress');
        assert.equal(ingress.length, 1);
        assert.deepEqual(get(ingress[0], 'ports'), [{ port: portOf(r), protocol: 'TCP' }]);
      }
    }
  });
});
