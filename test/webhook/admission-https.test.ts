/**
 * The webhook over HTTPS as the API server calls it: the client trusts only the generated CA (the
 * caBundle) and checks the Service name; requests are full AdmissionReview v1 objects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPatch } from 'rfc6902';
import { buildApp } from '../../webhook/app.ts';
import { DEFAULT_WEBHOOK_CONFIG } from '../../webhook/config.ts';
import { generateCaAndCert, serviceDnsNames } from '../../webhook/tls/generate.ts';
import { admissionReview, httpsCall } from './helpers/review.ts';
import { NS, SERVICE, SNI, useHttpsWebhook } from './helpers/https-webhook.ts';

const webhook = useHttpsWebhook();

const pod = (annotations: Record<string, string> = { 'mcp-warden.dev/inject': 'true', 'mcp-warden.dev/apikey-secret': 'keys' }) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'mcp-7c9d8-', namespace: 'apps', annotations },
  spec: { containers: [{ name: 'server', image: 'example/mcp:1', ports: [{ name: 'mcp', containerPort: 3000 }] }] },
});

const post = webhook.post;

test('the serving certificate verifies against the generated CA for every Service name, and not against another CA', async () => {
  for (const name of serviceDnsNames(SERVICE, NS)) {
    const r = await webhook.get('/livez', name);
    assert.equal(r.status, 200);
  }
  const stranger = generateCaAndCert({ dnsNames: ['x'], validityDays: 1, now: new Date() });
  await assert.rejects(httpsCall(webhook.port, '/livez', { ca: stranger.ca, servername: SNI }), /self-signed|unable to verify|certificate/i);
  await assert.rejects(httpsCall(webhook.port, '/livez', { ca: webhook.tls.ca, servername: 'evil.example.com' }), /altnames|Hostname/i);
});

test('an annotated pod gets allowed, a JSONPatch that applies, and the port-number warning', async () => {
  const review = admissionReview(pod());
  const r = await post(review);
  assert.equal(r.status, 200);
  const body = r.json();
  assert.equal(body.apiVersion, 'admission.k8s.io/v1');
  assert.equal(body.kind, 'AdmissionReview');
  assert.equal(body.response.uid, review.request.uid);
  assert.equal(body.response.allowed, true);
  assert.equal(body.response.patchType, 'JSONPatch');
  const patch = JSON.parse(Buffer.from(body.response.patch, 'base64').toString('utf8'));
  const obj = structuredClone(review.request.object) as ReturnType<typeof pod> & { spec: { initContainers?: Array<{ name: string }> } };
  assert.deepEqual(applyPatch(obj, patch).filter((x) => x !== null), []);
  assert.equal(obj.spec.initContainers?.[0]?.name, 'mcp-warden-sidecar');
  assert.equal(obj.spec.containers[0]!.ports[0]!.name, 'mcp-app');
  assert.ok(body.response.warnings.some((w: string) => /targetPort is the number 3000/.test(w)));
});

test('skips answer allowed with no patch, and are counted by reason', async () => {
  for (const [p, ns] of [[pod({}), 'apps'], [pod({ 'mcp-warden.dev/inject': 'false' }), 'apps'], [pod(), 'kube-system'], [pod(), NS]] as const) {
    const review = admissionReview(p, { namespace: ns });
    const body = (await post(review)).json();
    assert.equal(body.response.uid, review.request.uid);
    assert.equal(body.response.allowed, true);
    assert.equal(body.response.patch, undefined);
    assert.equal(body.response.patchType, undefined);
  }
  const metrics = (await webhook.get('/metrics')).body;
  for (const reason of ['not-annotated', 'opted-out', 'system-namespace', 'webhook-namespace']) assert.match(metrics, new RegExp(`mcp_warden_webhook_skips_total\\{reason="${reason}"\\} 1`));
});

test('bad annotations: allowed false, code 400, one message naming every bad key', async () => {
  const review = admissionReview(pod({ 'mcp-warden.dev/inject': 'true', 'mcp-warden.dev/rate-limit': 'fast', 'mcp-warden.dev/dlp': 'maybe', 'mcp-warden.dev/apikey-secret': 'other/ns/keys' }));
  const body = (await post(review)).json();
  assert.equal(body.response.uid, review.request.uid);
  assert.equal(body.response.allowed, false);
  assert.equal(body.response.status.code, 400);
  for (const k of ['rate-limit: got "fast"', 'dlp: got "maybe"', 'apikey-secret: got "other/ns/keys"']) assert.ok(body.response.status.message.includes(`mcp-warden.dev/${k}`), body.response.status.message);
});

test('malformed input gets a clear answer, never a crash', async () => {
  const bad = await post('{"apiVersion": "admission.k8s.io/v1", ');
  assert.equal(bad.status, 400);
  assert.match(bad.json().message, /JSON/i);

  const v1beta1 = await post({ ...admissionReview(pod()), apiVersion: 'admission.k8s.io/v1beta1' });
  assert.equal(v1beta1.status, 400);
  assert.match(v1beta1.json().message, /admission\.k8s\.io\/v1/);

  const noUid = await post({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: {} });
  assert.equal(noUid.status, 400);
  assert.match(noUid.json().message, /request\.uid/);

  const noObject = admissionReview(null);
  const r1 = (await post(noObject)).json();
  assert.equal(r1.response.uid, noObject.request.uid);
  assert.equal(r1.response.allowed, false);
  assert.match(r1.response.status.message, /request\.object/);

  const deployment = admissionReview({ apiVersion: 'apps/v1', kind: 'Deployment', spec: {} }, { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } });
  const r2 = (await post(deployment)).json();
  assert.equal(r2.response.allowed, false);
  assert.match(r2.response.status.message, /Pods only/);

  const huge = JSON.stringify(admissionReview({ ...pod(), metadata: { annotations: { big: 'x'.repeat(4 * 1024 * 1024) } } }));
  const r3 = await post(huge);
  assert.equal(r3.status, 413);
  assert.match(r3.json().message, /body|large/i);

  const wrongType = await httpsCall(webhook.port, '/mutate', { ca: webhook.tls.ca, servername: SNI, body: 'hello', contentType: 'text/plain' });
  assert.equal(wrongType.status, 400);
  assert.match(wrongType.json().message, /JSON object/);

  const update = (await post(admissionReview(pod(), { operation: 'UPDATE' }))).json();
  assert.equal(update.response.allowed, true);
  assert.equal(update.response.patch, undefined);

  // Still alive and answering after all of the above.
  assert.equal((await webhook.get('/readyz')).status, 200);
});

test('a fault inside the webhook answers 500 ERR_WEBHOOK_INTERNAL and counts as result="error", apart from bad requests', async () => {
  // A configuration that cannot be cloned into a pod makes rendering throw: the only way left to
  // reach the 500 path now that malformed pods are refused before anything reads them.
  const broken = { ...DEFAULT_WEBHOOK_CONFIG, sidecar: { ...DEFAULT_WEBHOOK_CONFIG.sidecar, resources: { requests: () => 'x' } } } as unknown as typeof DEFAULT_WEBHOOK_CONFIG;
  const faulty = buildApp(broken, { nativeSidecar: true, namespace: NS });
  try {
    const r = await faulty.inject({ method: 'POST', url: '/mutate', payload: admissionReview(pod()) });
    assert.equal(r.statusCode, 500);
    assert.equal(r.json().code, 'ERR_WEBHOOK_INTERNAL');
    await faulty.inject({ method: 'POST', url: '/mutate', payload: '{"broken', headers: { 'content-type': 'application/json' } });
    const metrics = (await faulty.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /mcp_warden_webhook_admissions_total\{result="error"\} 1/);
    assert.match(metrics, /mcp_warden_webhook_admissions_total\{result="invalid"\} 1/);
  } finally {
    await faulty.close();
  }
});
