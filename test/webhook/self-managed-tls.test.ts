/**
 * Self-managed TLS against the real @kubernetes/client-node, talking to a recording API server on
 * loopback: Secret create-if-absent, two replicas racing (409 -> adopt), caBundle patch and drift
 * repair, renewal under the same CA, and the cluster version read for native sidecars.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { resolveNativeSidecar } from '../../webhook/cluster.ts';
import { createK8s, type K8s } from '../../webhook/k8s.ts';
import { startSelfManagedTls } from '../../webhook/tls/maintain.ts';
import { ensureServingSecret, type SelfManagedOptions } from '../../webhook/tls/self-managed.ts';
import { startFakeApiServer, webhookConfiguration, type FakeApiServer } from './helpers/fake-apiserver.ts';

const NS = 'mcp-warden';
const SVC = 'mcp-warden-webhook';
const SECRET_PATH = `/api/v1/namespaces/${NS}/secrets/mcp-warden-webhook-tls`;
const MWC_PATH = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/mcp-warden';
let api: FakeApiServer;
let k8s: K8s;
const opts = (over: Partial<SelfManagedOptions> = {}): SelfManagedOptions => ({ k8s, namespace: NS, secretName: 'mcp-warden-webhook-tls', serviceName: SVC, webhookConfigName: 'mcp-warden', validityDays: 365, renewBeforeDays: 30, ...over });
const b64 = (s: string) => Buffer.from(s).toString('base64');

before(async () => {
  api = await startFakeApiServer();
  k8s = createK8s(api.kubeConfig());
});
after(() => api.close());
beforeEach(() => {
  api.calls.length = 0;
  api.secrets.clear();
  api.webhookConfigs.set('mcp-warden', webhookConfiguration('mcp-warden', { name: SVC, namespace: NS }));
});

test('first start: creates the Secret, patches the caBundle; the cert verifies against it for the Service names', async () => {
  const m = await startSelfManagedTls({ ...opts(), onChange: () => {} });
  m.stop();
  assert.equal(m.initial.source, 'created');
  const calls = api.calls.map((c) => `${c.method} ${c.path}`);
  assert.deepEqual(calls, [`GET ${SECRET_PATH}`, `POST /api/v1/namespaces/${NS}/secrets`, `GET ${MWC_PATH}`, `PATCH ${MWC_PATH}`]);
  const post = api.calls[1]!.body;
  assert.equal(post.type, 'kubernetes.io/tls');
  assert.deepEqual(Object.keys(post.data).sort(), ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
  const patch = api.calls[3]!;
  assert.equal(patch.contentType, 'application/json-patch+json');
  assert.deepEqual(patch.body[0], { op: 'test', path: '/webhooks/0/name', value: 'inject.mcp-warden.dev' });
  assert.equal(api.webhookConfigs.get('mcp-warden')!.webhooks[0].clientConfig.caBundle, b64(m.initial.ca));

  const leaf = new X509Certificate(m.initial.cert);
  const ca = new X509Certificate(m.initial.ca);
  assert.ok(leaf.verify(ca.publicKey), 'leaf signed by the CA');
  assert.ok(leaf.checkIssued(ca));
  for (const name of [SVC, `${SVC}.${NS}`, `${SVC}.${NS}.svc`, `${SVC}.${NS}.svc.cluster.local`]) assert.equal(leaf.checkHost(name), name);
  assert.equal(leaf.checkHost('other.example.com'), undefined);
});

test('two replicas racing: one creates, the other gets 409 AlreadyExists and adopts the winner', async () => {
  api.secretGetBarrier = 2; // both read "absent" before either creates
  const [a, b] = await Promise.all([ensureServingSecret(opts()), ensureServingSecret(opts())]);
  assert.deepEqual([a.source, b.source].sort(), ['adopted', 'created']);
  assert.equal(a.cert, b.cert);
  assert.equal(a.key, b.key);
  assert.equal(a.ca, b.ca);
  const posts = api.calls.filter((c) => c.method === 'POST');
  assert.equal(posts.length, 2, 'both tried to create');
  assert.equal(api.calls.filter((c) => c.method === 'GET').length, 3, 'the loser read the winner');
});

test('a drifted caBundle is patched back on the next pass; no drift, no patch', async () => {
  const m = await startSelfManagedTls({ ...opts(), onChange: () => {} });
  m.stop();
  api.webhookConfigs.get('mcp-warden')!.webhooks[0].clientConfig.caBundle = b64('something a helm upgrade wrote');
  api.calls.length = 0;
  await m.tick();
  assert.deepEqual(api.calls.map((c) => c.method), ['GET', 'GET', 'PATCH']);
  assert.equal(api.webhookConfigs.get('mcp-warden')!.webhooks[0].clientConfig.caBundle, b64(m.initial.ca));
  api.calls.length = 0;
  await m.tick();
  assert.deepEqual(api.calls.map((c) => c.method), ['GET', 'GET'], 'nothing to patch');
});

test('renewal before expiry keeps the CA; a replica that renewed first is adopted and reloaded', async () => {
  const first = await ensureServingSecret(opts());
  const later = new Date(Date.now() + 340 * 86_400_000); // inside renewBeforeDays of the leaf's end
  const renewed = await ensureServingSecret(opts({ now: () => later }));
  assert.equal(renewed.source, 'renewed');
  assert.notEqual(renewed.cert, first.cert);
  assert.equal(renewed.ca, first.ca, 'same CA: the caBundle stays valid');
  assert.ok(api.calls.some((c) => c.method === 'PUT' && c.path === SECRET_PATH));
  assert.ok(new X509Certificate(renewed.cert).verify(new X509Certificate(first.ca).publicKey));

  // A running replica still holding `renewed` sees another replica's newer Secret and reloads.
  let changed: string | undefined;
  const m = await startSelfManagedTls({ ...opts(), onChange: (p) => (changed = p.cert) });
  m.stop();
  const other = await ensureServingSecret(opts({ now: () => new Date(Date.now() + 700 * 86_400_000) }));
  await m.tick();
  assert.equal(changed, other.cert);
});

test('an unusable Secret (wrong names) is replaced', async () => {
  await ensureServingSecret(opts({ serviceName: 'someone-else' }));
  const mine = await ensureServingSecret(opts());
  assert.equal(mine.source, 'renewed');
  assert.equal(new X509Certificate(mine.cert).checkHost(`${SVC}.${NS}.svc`), `${SVC}.${NS}.svc`);
});

test('native sidecars: decided from /version once (>= 1.29), and never on failure', async () => {
  api.version = { major: '1', minor: '31+', gitVersion: 'v1.31.2-gke.1' };
  assert.deepEqual(await resolveNativeSidecar('auto', k8s), { native: true, version: 'v1.31.2-gke.1' });
  api.version = { major: '1', minor: '28', gitVersion: 'v1.28.9' };
  assert.equal((await resolveNativeSidecar('auto', k8s)).native, false);
  assert.equal((await resolveNativeSidecar('true', k8s)).native, true);
  const broken = createK8s((() => {
    const kc = api.kubeConfig();
    kc.clusters[0] = { ...kc.clusters[0]!, server: 'http://127.0.0.1:1' };
    return kc;
  })());
  let seen: Error | undefined;
  assert.equal((await resolveNativeSidecar('auto', broken, (e) => (seen = e))).native, false);
  assert.ok(seen);
});

test('the webhook configuration missing at start (Helm creates it after the Deployment) does not stop the start; the patch follows', async () => {
  api.webhookConfigs.delete('mcp-warden');
  const errors: Error[] = [];
  const m = await startSelfManagedTls({ ...opts(), onChange: () => {}, onError: (e) => errors.push(e), retryMs: 60_000 });
  m.stop();
  assert.equal(m.bundleOk(), false);
  assert.equal(errors.length, 1);
  api.webhookConfigs.set('mcp-warden', webhookConfiguration('mcp-warden', { name: SVC, namespace: NS }));
  await m.tick();
  assert.equal(m.bundleOk(), true);
  assert.equal(api.webhookConfigs.get('mcp-warden')!.webhooks[0].clientConfig.caBundle, b64(m.initial.ca));
});
