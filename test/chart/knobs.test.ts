/**
 * The knobs users expect from charts like cert-manager's, each rendered by the real helm binary
 * from its ci/ values file (which chart.test.ts also lints, validates against the Kubernetes
 * schemas and checks for the restricted Pod Security Standard): nameOverride, namespaceOverride,
 * image registries, extra env/volumes/mounts, the webhook's port, hostNetwork, and security
 * contexts that leave the user id to the platform (OpenShift).
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseWebhookConfig, parseWebhookConfigText } from '../../webhook/config.ts';
import { WEBHOOK_POD_LABELS } from '../../webhook/inject/decide.ts';
import { inject } from '../../webhook/inject/inject.ts';
import { CHART, NEW_CLUSTER, ROOT, get, helm, list, obj, parseManifests as parseManifestsOf, pool, render, templateArgs } from './render.ts';
import type { Json, K8sObject } from './render.ts';

const CI = (f: string) => join(CHART, 'ci', f);
const R: Record<string, K8sObject[]> = {};

before(async () => {
  for (const f of ['defaults', 'overrides', 'host-network', 'openshift']) R[f] = await render(CI(`${f}-values.yaml`), NEW_CLUSTER);
});

const the = (objs: K8sObject[], kind: string): K8sObject => {
  const found = objs.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0]!;
};
const podSpec = (objs: K8sObject[]): Json => obj(get(the(objs, 'Deployment'), 'spec.template.spec'), 'pod spec');
const container = (objs: K8sObject[]): Json => obj(list(podSpec(objs).containers, 'containers')[0], 'webhook container');
const testPod = (objs: K8sObject[]): Json => obj(the(objs, 'Pod').spec, 'test pod spec');
const cfgText = (objs: K8sObject[]): string => String(obj(the(objs, 'ConfigMap').data, 'ConfigMap data')['config.yaml']);
const config = (objs: K8sObject[]): Json => obj(parseYaml(cfgText(objs)), 'config.yaml');
const names = (items: unknown): string[] => list(items, 'items').map((i) => String(get(i, 'name')));

describe('nameOverride and namespaceOverride', () => {
  test('object names use nameOverride; the contract label app.kubernetes.io/name stays mcp-warden', () => {
    const objs = R.overrides!;
    for (const o of objs) assert.ok(!o.metadata.name.includes('mcp-warden'), `${o.kind} ${o.metadata.name} still says mcp-warden`);
    assert.equal(the(objs, 'Deployment').metadata.name, 'warden-test-guard');
    assert.equal(the(objs, 'Service').metadata.name, 'warden-test-guard-webhook');
    assert.equal(the(objs, 'MutatingWebhookConfiguration').metadata.name, 'warden-test-guard');
    assert.equal(get(config(objs), 'tls.secretName'), 'warden-test-guard-webhook-tls');
    const labels = obj(get(the(objs, 'Deployment'), 'spec.template.metadata.labels'), 'pod labels');
    for (const [k, v] of Object.entries(WEBHOOK_POD_LABELS)) assert.equal(labels[k], v, `the webhook still recognises its own pods by ${k}`);
  });

  test('namespaceOverride: the objects, the webhook service reference and the excluded namespaces follow it', () => {
    const objs = R.overrides!;
    assert.equal(the(objs, 'Deployment').metadata.namespace, 'mcp-guard');
    const hook = obj(list(the(objs, 'MutatingWebhookConfiguration').webhooks, 'webhooks')[0], 'webhook');
    assert.equal(get(hook, 'clientConfig.service.namespace'), 'mcp-guard');
    const notIn = list(get(hook, 'namespaceSelector.matchExpressions'), 'matchExpressions').map((e) => obj(e, 'expr'));
    assert.ok(list(notIn[0]?.values, 'values').includes('mcp-guard'), 'the webhook never mutates its own namespace');
    assert.equal(get(the(objs, 'Pod'), 'metadata.namespace'), 'mcp-guard');
    const host = list(get(testPod(objs), 'containers'), 'c').flatMap((c) => list(get(c, 'env'), 'env')).find((e) => get(e, 'name') === 'HOST');
    assert.equal(get(host, 'value'), 'warden-test-guard-webhook.mcp-guard.svc');
  });

  test('the schema refuses names that are not DNS labels', async () => {
    const r = await helm(templateArgs(undefined, NEW_CLUSTER, ['--set', 'nameOverride=Bad_Name', '--set', 'namespaceOverride=also bad']));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /at '\/nameOverride': 'Bad_Name' does not match pattern/);
    assert.match(r.stderr, /at '\/namespaceOverride': 'also bad' does not match pattern/);
  });
});

describe('image registries', () => {
  test('image.registry and sidecar.image.registry prefix the repositories of the webhook, helm test and sidecar images', () => {
    const objs = R.overrides!;
    assert.equal(container(objs).image, 'registry.example.com/mirror/mcp-warden/webhook:0.1.0');
    assert.equal(get(list(testPod(objs).containers, 'c')[0], 'image'), 'registry.example.com/mirror/mcp-warden/webhook:0.1.0');
    assert.equal(get(config(objs), 'sidecar.image'), 'registry.example.com/mirror/mcp-warden/sidecar:0.1.0');
    assert.equal(container(R.defaults!).image, 'ghcr.io/mcp-warden/webhook:0.1.0');
  });

  test('a repository that still names a registry, beside a registry, fails naming both keys', async () => {
    const r = await helm(templateArgs(undefined, NEW_CLUSTER, ['--set', 'sidecar.image.repository=quay.io/me/sidecar']));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /sidecar\.image\.repository "quay\.io\/me\/sidecar" starts with a registry host \(quay\.io\) and sidecar\.image\.registry is set too \("ghcr\.io"\)/);
    const ok = await helm(templateArgs(undefined, NEW_CLUSTER, ['--set', 'sidecar.image.registry=', '--set', 'sidecar.image.repository=quay.io/me/sidecar', '--show-only', 'templates/configmap.yaml']));
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /image: quay\.io\/me\/sidecar:0\.1\.0/);
  });
});

describe('extra env, volumes and mounts', () => {
  test('come after the chart own, and every mount names a volume', () => {
    const objs = R.overrides!;
    const c = container(objs);
    assert.deepEqual(names(c.env), ['MCP_WARDEN_WEBHOOK_CONFIG', 'POD_NAMESPACE', 'POD_NAME', 'NODE_EXTRA_CA_CERTS', 'HTTPS_PROXY', 'NO_PROXY']);
    assert.deepEqual(names(podSpec(objs).volumes), ['config', 'corp-ca']);
    assert.deepEqual(list(c.volumeMounts, 'mounts').map((m) => get(m, 'mountPath')), ['/etc/mcp-warden/config.yaml', '/etc/corp-ca']);
    for (const m of names(c.volumeMounts)) assert.ok(names(podSpec(objs).volumes).includes(m), `mount ${m} has a volume`);
  });

  test("the schema refuses the chart's own env and volume names", async () => {
    const r = await helm(templateArgs(undefined, NEW_CLUSTER, ['--set', 'extraEnv[0].name=POD_NAME', '--set', 'extraEnv[0].value=x', '--set', 'extraVolumes[0].name=config', '--set', 'extraVolumes[0].emptyDir.medium=Memory', '--set', 'extraVolumeMounts[0].name=x', '--set', 'extraVolumeMounts[0].mountPath=relative']));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /at '\/extraEnv\/0\/name': 'not' failed/);
    assert.match(r.stderr, /at '\/extraVolumes\/0\/name': 'not' failed/);
    assert.match(r.stderr, /at '\/extraVolumeMounts\/0\/mountPath': 'relative' does not match pattern/);
  });
});

describe("the webhook's port and hostNetwork", () => {
  test('webhook.port: the container port named https (probes and the Service follow the name) and config.yaml server.port', () => {
    const objs = R.overrides!;
    const c = container(objs);
    assert.deepEqual(c.ports, [{ name: 'https', containerPort: 9443, protocol: 'TCP' }]);
    assert.equal(get(c, 'readinessProbe.httpGet.port'), 'https');
    assert.equal(get(list(get(the(objs, 'Service'), 'spec.ports'), 'ports')[0], 'targetPort'), 'https');
    assert.equal(get(config(objs), 'server.port'), 9443);
    assert.equal(parseWebhookConfigText(cfgText(objs), 'config.yaml').server.port, 9443);
  });

  test('hostNetwork: host network, cluster DNS kept (ClusterFirstWithHostNet), one pod replaced at a time', () => {
    const objs = R['host-network']!;
    const spec = podSpec(objs);
    assert.equal(spec.hostNetwork, true);
    assert.equal(spec.dnsPolicy, 'ClusterFirstWithHostNet');
    assert.deepEqual(container(objs).ports, [{ name: 'https', containerPort: 10260, protocol: 'TCP' }]);
    assert.deepEqual(get(the(objs, 'Deployment'), 'spec.strategy.rollingUpdate'), { maxUnavailable: 1, maxSurge: 0 });
    const d = podSpec(R.defaults!);
    assert.equal(d.hostNetwork, undefined);
    assert.equal(d.dnsPolicy, undefined);
    assert.deepEqual(get(the(R.defaults!, 'Deployment'), 'spec.strategy.rollingUpdate'), { maxUnavailable: 0, maxSurge: 1 });
  });

  test('a privileged port is refused by the schema (the webhook runs unprivileged)', async () => {
    const r = await helm(templateArgs(undefined, NEW_CLUSTER, ['--set', 'webhook.port=443']));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /at '\/webhook\/port': minimum: got 443, want 1,024/);
  });
});

describe('security contexts for OpenShift', () => {
  const ids = ['runAsUser', 'runAsGroup', 'fsGroup'];
  test('null ids leave them to the platform in the webhook and helm test pods; runAsNonRoot and the rest stay', () => {
    const objs = R.openshift!;
    const pods: [string, Json][] = [['webhook', podSpec(objs)], ['helm test', testPod(objs)]];
    for (const [what, spec] of pods) {
      const podSc = obj(spec.securityContext, `${what} pod securityContext`);
      const sc = obj(get(list(spec.containers, 'c')[0], 'securityContext'), `${what} container securityContext`);
      for (const k of ids) {
        assert.equal(k in podSc, false, `${what}: pod ${k}`);
        assert.equal(k in sc, false, `${what}: container ${k}`);
      }
      assert.equal(podSc.runAsNonRoot, true);
      assert.equal(sc.allowPrivilegeEscalation, false);
      assert.equal(sc.readOnlyRootFilesystem, true);
      assert.deepEqual(get(sc, 'capabilities.drop'), ['ALL']);
    }
    const d = podSpec(R.defaults!);
    assert.deepEqual(ids.map((k) => get(d, `securityContext.${k}`)), [65532, 65532, 65532]);
    assert.equal(get(container(R.defaults!), 'securityContext.runAsUser'), 65532);
  });

  test('sidecar.runAsUser: null reaches config.yaml, and injected sidecars then name no user', () => {
    const c = config(R.openshift!);
    assert.equal(get(c, 'sidecar.runAsUser'), null);
    assert.equal(get(config(R.defaults!), 'sidecar.runAsUser'), 65532);
    const cfg = parseWebhookConfigText(cfgText(R.openshift!), 'config.yaml');
    const pod = { metadata: { name: 'p', annotations: { 'mcp-warden.dev/inject': 'true' } }, spec: { containers: [{ name: 's', image: 'i', ports: [{ name: 'mcp', containerPort: 3000 }] }] } };
    const r = inject(pod, 'apps', cfg, { nativeSidecar: true });
    assert.equal(r.action, 'injected');
    const sidecar = list(get(r.action === 'injected' ? r.object : {}, 'spec.initContainers'), 'initContainers').find((x) => get(x, 'name') === 'mcp-warden-sidecar');
    assert.equal(get(sidecar, 'securityContext.runAsUser'), undefined);
    assert.equal(get(sidecar, 'securityContext.runAsNonRoot'), true);
  });

  test('a large id from a values file reaches config.yaml as an integer, not 1.00065e+09', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warden-knobs-'));
    try {
      writeFileSync(join(dir, 'v.yaml'), 'sidecar:\n  runAsUser: 1000650000\n');
      const objs = await render(join(dir, 'v.yaml'), NEW_CLUSTER);
      assert.equal(parseWebhookConfigText(cfgText(objs), 'config.yaml').sidecar.runAsUser, 1000650000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the sidecar's and the stdio bridge's ports", () => {
  const cfgOf = async (sets: readonly string[]) => helm(templateArgs(undefined, NEW_CLUSTER, [...sets.flatMap((s) => ['--set', s]), '--show-only', 'templates/configmap.yaml']));

  test('sidecar.stdioListenPort and stdioAdminPort reach config.yaml, and the webhook reads them', async () => {
    assert.deepEqual([get(config(R.defaults!), 'sidecar.stdioListenPort'), get(config(R.defaults!), 'sidecar.stdioAdminPort')], [9902, 9903]);
    const r = await cfgOf(['sidecar.stdioListenPort=9950', 'sidecar.stdioAdminPort=9951']);
    assert.equal(r.code, 0, r.stderr);
    const cfg = parseWebhookConfigText(cfgText(parseManifestsOf(r.stdout)), 'config.yaml');
    assert.deepEqual([cfg.sidecar.stdioListenPort, cfg.sidecar.stdioAdminPort], [9950, 9951]);
  });

  // What helm accepts, the webhook accepts: a clash the chart let through would crash-loop the
  // webhook at start naming a key the chart user cannot set.
  const CASES: ReadonlyArray<{ sets: string[]; clashes: string[] }> = [
    { sets: ['sidecar.listenPort=9902'], clashes: ['sidecar.stdioListenPort (9902) must differ from sidecar.listenPort'] },
    { sets: ['sidecar.adminPort=9903'], clashes: ['sidecar.stdioAdminPort (9903) must differ from sidecar.adminPort'] },
    { sets: ['sidecar.adminPort=8080'], clashes: ['sidecar.adminPort (8080) must differ from sidecar.listenPort'] },
    { sets: ['sidecar.stdioListenPort=8080', 'sidecar.stdioAdminPort=9901'], clashes: ['sidecar.stdioListenPort (8080) must differ from sidecar.listenPort', 'sidecar.stdioAdminPort (9901) must differ from sidecar.adminPort'] },
    { sets: ['sidecar.stdioAdminPort=9902'], clashes: ['sidecar.stdioAdminPort (9902) must differ from sidecar.stdioListenPort'] },
    { sets: ['sidecar.listenPort=9902', 'sidecar.stdioListenPort=9904'], clashes: [] },
  ];
  for (const c of CASES) {
    test(`${c.sets.join(' ')}: ${c.clashes.length === 0 ? 'rendered, and the webhook starts on it' : 'refused by helm, naming the values'}`, async () => {
      const r = await cfgOf(c.sets);
      if (c.clashes.length > 0) {
        assert.notEqual(r.code, 0, 'helm rendered a port clash');
        for (const m of c.clashes) assert.ok(r.stderr.includes(m), r.stderr);
        return;
      }
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotThrow(() => parseWebhookConfigText(cfgText(parseManifestsOf(r.stdout)), 'config.yaml'));
    });
  }

  test('the schema refuses a bridge port outside 1-65535', async () => {
    const r = await helm(templateArgs(undefined, NEW_CLUSTER, ['--set', 'sidecar.stdioListenPort=0', '--set', 'sidecar.stdioAdminPort=70000']));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /at '\/sidecar\/stdioListenPort': minimum: got 0, want 1/);
    assert.match(r.stderr, /at '\/sidecar\/stdioAdminPort': maximum: got 70,000, want 65,535/);
  });
});

describe('values the webhook or Kubernetes would refuse, refused by the schema first', () => {
  /** The keys of a kubernetes-models interface: the Kubernetes 1.33 schema's own field names. */
  const k8sKeys = (type: string): string[] => {
    const text = readFileSync(join(ROOT, 'node_modules', 'kubernetes-models', 'v1', `${type}.d.ts`), 'utf8');
    const body = /export interface I\w+ \{([\s\S]*?)\n\}/.exec(text)?.[1] ?? '';
    return [...body.matchAll(/^\s+"(\w+)"\??:/gm)].map((m) => m[1]!).sort();
  };
  const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8'));

  test('podSecurityContext and containerSecurityContext take exactly the Kubernetes keys', () => {
    for (const [key, type] of [['podSecurityContext', 'PodSecurityContext'], ['containerSecurityContext', 'SecurityContext']] as const) {
      const s = schema.properties[key];
      assert.equal(s.additionalProperties, false, `${key}: unknown keys refused`);
      assert.deepEqual(Object.keys(s.properties).sort(), k8sKeys(type), `${key}: the keys of ${type}`);
    }
    for (const [key, type] of [['seccompProfile', 'SeccompProfile'], ['appArmorProfile', 'AppArmorProfile'], ['seLinuxOptions', 'SELinuxOptions'], ['windowsOptions', 'WindowsSecurityContextOptions']] as const) {
      assert.deepEqual(Object.keys(schema.properties.containerSecurityContext.properties[key].properties).sort(), k8sKeys(type), key);
    }
    assert.deepEqual(Object.keys(schema.properties.containerSecurityContext.properties.capabilities.properties).sort(), k8sKeys('Capabilities'));
  });

  test('a misspelt security context key, or a wrong type, fails helm naming it', async () => {
    const r = await helm(templateArgs(undefined, NEW_CLUSTER, ['--set', 'containerSecurityContext.readOnlyRootFileSystem=true', '--set', 'podSecurityContext.runAsNonroot=true', '--set', 'containerSecurityContext.capabilities.drops[0]=ALL', '--set-string', 'podSecurityContext.fsGroup=abc']));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /at '\/containerSecurityContext': additional properties 'readOnlyRootFileSystem' not allowed/);
    assert.match(r.stderr, /at '\/podSecurityContext': additional properties 'runAsNonroot' not allowed/);
    assert.match(r.stderr, /at '\/containerSecurityContext\/capabilities': additional properties 'drops' not allowed/);
    assert.match(r.stderr, /at '\/podSecurityContext\/fsGroup': got string, want null or integer/);
  });

  test('sidecar.runAsUser above 2147483647 fails helm; the largest id reaches the webhook', async () => {
    const r = await helm(templateArgs(undefined, NEW_CLUSTER, ['--set', 'sidecar.runAsUser=2147483648']));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /at '\/sidecar\/runAsUser': maximum: got 2\.147483648×10⁰⁹, want 2\.147483647×10⁰⁹/);
    const ok = await helm(templateArgs(undefined, NEW_CLUSTER, ['--set', 'sidecar.runAsUser=2147483647', '--show-only', 'templates/configmap.yaml']));
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(parseWebhookConfigText(cfgText(parseManifestsOf(ok.stdout)), 'config.yaml').sidecar.runAsUser, 2147483647);
  });

  test('sidecar.redisPasswordSecret: what the schema accepts, the webhook accepts (real helm)', async () => {
    const candidates = ['redis', 'redis/password', 'redis.auth/pass_word-1.txt', 'redis/.', 'redis/..', 'redis/...', 'redis/.x', 'redis/..x', 'redis/a/b', 'Redis', '-redis', 'ns/redis/key', 'redis/'];
    const results = await pool(candidates, 3, async (v) => {
      const r = await helm(templateArgs(undefined, NEW_CLUSTER, ['--set-string', `sidecar.redisPasswordSecret=${v}`, '--show-only', 'templates/configmap.yaml']));
      const schemaOk = r.code === 0;
      if (!schemaOk) assert.match(r.stderr, /at '\/sidecar\/redisPasswordSecret': '.*' does not match pattern/, r.stderr);
      let webhookOk = true;
      try {
        parseWebhookConfig({ sidecar: { redisPasswordSecret: v } });
      } catch {
        webhookOk = false;
      }
      return { v, schemaOk, webhookOk };
    });
    assert.deepEqual(results.filter((x) => x.schemaOk !== x.webhookOk), [], 'the schema and the webhook agree');
    assert.deepEqual(results.filter((x) => !x.schemaOk).map((x) => x.v), ['redis/.', 'redis/..', 'redis/a/b', 'Redis', '-redis', 'ns/redis/key', 'redis/']);
  });
});
