/**
 * Evaluates the CEL the chart renders (the ValidatingAdmissionPolicy's matchCondition and
 * validation, the webhook's matchCondition) with a real CEL evaluator, @bufbuild/cel, against the
 * pods that matter: injected, opted in without the sidecar, not opted in, label opt-in and the
 * native-sidecar form. The expressions use standard CEL plus the strings extension (trim,
 * lowerAscii), which the API server provides too, and no optional (`?.`) syntax, so a standard CEL
 * evaluator decides what the API server decides. The opt-in rule mirrors the webhook's
 * (webhook/inject/annotations.ts): the annotation wins when it says true or false, else the label.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { NEW_CLUSTER, get, list, obj, render } from './render.ts';

type Run = (expr: string, bindings: Record<string, unknown>, options: { funcs: unknown }) => unknown;
let run: Run;
/** The CEL strings extension (trim, lowerAscii), which the Kubernetes API server also provides. */
let strings: unknown;
let optIn: string;
let hasSidecar: string;
let webhookOptIn: string;

/** @bufbuild/cel reads maps as Map and lists as arrays; plain objects become Maps, recursively. */
function toCel(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toCel);
  if (typeof v === 'object' && v !== null) return new Map(Object.entries(v).map(([k, x]) => [k, toCel(x)]));
  return v;
}

function evalBool(expr: string, pod: unknown): boolean {
  const out = run(expr, { object: toCel(pod) }, { funcs: strings });
  assert.equal(typeof out, 'boolean', `CEL did not yield a boolean (${String(out)}) for ${expr}`);
  return out as boolean;
}

/** The API server's decision: the policy applies only when the matchCondition holds. */
function admitted(pod: unknown): boolean {
  return !evalBool(optIn, pod) || evalBool(hasSidecar, pod);
}

before(async () => {
  try {
    const cel = await import('@bufbuild/cel');
    run = cel.run as unknown as Run;
    strings = (await import('@bufbuild/cel/ext')).strings;
  } catch (err) {
    // @bufbuild/cel declares @bufbuild/protobuf as a peer; .npmrc sets legacy-peer-deps, so it
    // must be a direct devDependency.
    throw new Error(`@bufbuild/cel does not load (${(err as Error).message}); add "@bufbuild/protobuf": "^2.6.2" to devDependencies`, { cause: err });
  }
  const objects = await render(undefined, NEW_CLUSTER);
  const vap = objects.find((o) => o.kind === 'ValidatingAdmissionPolicy');
  const mwc = objects.find((o) => o.kind === 'MutatingWebhookConfiguration');
  assert.ok(vap && mwc, 'the default render on a 1.33 cluster has the policy and the webhook');
  const conditions = list(get(vap, 'spec.matchConditions'), 'matchConditions').map((c) => obj(c, 'condition'));
  const validations = list(get(vap, 'spec.validations'), 'validations').map((c) => obj(c, 'validation'));
  assert.equal(conditions.length, 1);
  assert.equal(validations.length, 1);
  optIn = String(conditions[0]?.expression);
  hasSidecar = String(validations[0]?.expression);
  const hook = obj(list(mwc.webhooks, 'webhooks')[0], 'webhook');
  webhookOptIn = String(obj(list(hook.matchConditions, 'matchConditions')[0], 'condition').expression);
});

const app = { name: 'mcp', image: 'ghcr.io/example/mcp-server:1', ports: [{ name: 'http', containerPort: 3000 }] };
const sidecar = { name: 'mcp-warden-sidecar', image: 'ghcr.io/mcp-warden/sidecar:0.1.0' };
const pod = (metadata: Record<string, unknown>, spec: Record<string, unknown>): unknown => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'mcp-servers', ...metadata }, spec });
const ANN = { 'mcp-warden.dev/inject': 'true' };

const CASES: { name: string; pod: unknown; optedIn: boolean; admitted: boolean }[] = [
  { name: 'annotated pod with the injected sidecar container', pod: pod({ annotations: { ...ANN, 'mcp-warden.dev/status': 'injected' } }, { containers: [sidecar, app] }), optedIn: true, admitted: true },
  { name: 'annotated pod without the sidecar (webhook down)', pod: pod({ annotations: ANN }, { containers: [app] }), optedIn: true, admitted: false },
  { name: 'pod without annotations or labels', pod: pod({}, { containers: [app] }), optedIn: false, admitted: true },
  { name: 'pod with other annotations and labels', pod: pod({ annotations: { 'example.com/x': 'true' }, labels: { app: 'mcp' } }, { containers: [app] }), optedIn: false, admitted: true },
  { name: 'pod that says "false"', pod: pod({ annotations: { 'mcp-warden.dev/inject': 'false' } }, { containers: [app] }), optedIn: false, admitted: true },
  { name: 'label opt-in without the sidecar', pod: pod({ labels: ANN }, { containers: [app] }), optedIn: true, admitted: false },
  { name: 'annotation "false" overrides the label "true" (the webhook skips it)', pod: pod({ annotations: { 'mcp-warden.dev/inject': 'false' }, labels: ANN }, { containers: [app] }), optedIn: false, admitted: true },
  { name: 'annotation " True " (trimmed, any case, as the webhook reads it)', pod: pod({ annotations: { 'mcp-warden.dev/inject': ' True ' } }, { containers: [app] }), optedIn: true, admitted: false },
  { name: 'a malformed annotation leaves the label in charge', pod: pod({ annotations: { 'mcp-warden.dev/inject': 'yes' }, labels: ANN }, { containers: [app] }), optedIn: true, admitted: false },
  { name: 'a malformed annotation alone does not opt in', pod: pod({ annotations: { 'mcp-warden.dev/inject': 'yes' } }, { containers: [app] }), optedIn: false, admitted: true },
  { name: 'label opt-in with the sidecar', pod: pod({ labels: ANN }, { containers: [app, sidecar] }), optedIn: true, admitted: true },
  { name: 'native sidecar: initContainer with restartPolicy Always', pod: pod({ annotations: ANN }, { initContainers: [{ ...sidecar, restartPolicy: 'Always' }], containers: [app] }), optedIn: true, admitted: true },
  { name: 'a plain init container of that name is not a running sidecar', pod: pod({ annotations: ANN }, { initContainers: [sidecar], containers: [app] }), optedIn: true, admitted: false },
  { name: 'other init containers only', pod: pod({ annotations: ANN }, { initContainers: [{ name: 'init', image: 'busybox', restartPolicy: 'Always' }], containers: [app] }), optedIn: true, admitted: false },
  { name: 'a look-alike container name', pod: pod({ annotations: ANN }, { containers: [app, { ...sidecar, name: 'mcp-warden-sidecar-2' }] }), optedIn: true, admitted: false },
];

for (const c of CASES) {
  test(`policy: ${c.name} -> ${c.admitted ? 'allowed' : 'denied'}`, () => {
    assert.equal(evalBool(optIn, c.pod), c.optedIn, 'matchCondition');
    assert.equal(admitted(c.pod), c.admitted, 'decision');
    // The webhook is called for exactly the pods the policy guards.
    assert.equal(evalBool(webhookOptIn, c.pod), c.optedIn, 'webhook matchCondition');
  });
}

test('the policy and the webhook use the same opt-in expression', () => {
  assert.equal(webhookOptIn, optIn);
});
