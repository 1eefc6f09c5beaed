/**
 * Property: for every pod shape (containers, ports, names, probes, init containers, annotations),
 * inject() never throws; when it injects, the patch applies with rfc6902 to exactly the injected
 * object, the object passes the API-server checks, and a second pass yields an empty patch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyPatch } from 'rfc6902';
import { DEFAULT_WEBHOOK_CONFIG } from '../../webhook/config.ts';
import { inject } from '../../webhook/inject/inject.ts';
import type { PodLike } from '../../webhook/inject/types.ts';
import { podProblems } from './helpers/checks.ts';

const PORT_NAMES = ['mcp', 'http', 'web', 'metrics', 'mcp-app', 'http-app', 'mcp-warden', 'warden-admin', 'streamable-http'];
const PORT_NUMBERS = [3000, 8080, 8081, 9901, 9902, 5000, 443];

const podArb = fc
  .record({
    containerNames: fc.uniqueArray(fc.constantFrom('server', 'app', 'proxy', 'mcp', 'worker'), { minLength: 1, maxLength: 3 }),
    initNames: fc.uniqueArray(fc.constantFrom('migrate', 'setup'), { maxLength: 2 }),
    portNames: fc.shuffledSubarray(PORT_NAMES),
    portNumbers: fc.shuffledSubarray(PORT_NUMBERS),
    portsPer: fc.array(fc.nat(3), { minLength: 3, maxLength: 3 }),
    unnamed: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
    probeOnFirst: fc.boolean(),
    pick: fc.option(fc.nat(4)),
    upstream: fc.option(fc.oneof(fc.constantFrom(...PORT_NUMBERS), fc.constantFrom(...PORT_NAMES))),
    hasAnnotations: fc.boolean(),
    native: fc.boolean(),
  })
  .map((r) => {
    let n = 0;
    const containers = r.containerNames.map((name, i) => {
      const ports = [] as Array<{ name?: string; containerPort: number }>;
      for (let k = 0; k < (r.portsPer[i] ?? 0) && n < r.portNumbers.length; k++, n++) {
        const name = r.unnamed[n] ? undefined : r.portNames[n];
        ports.push(name ? { name, containerPort: r.portNumbers[n]! } : { containerPort: r.portNumbers[n]! });
      }
      const c: Record<string, unknown> = { name, image: `example/${name}:1` };
      if (ports.length > 0) c.ports = ports;
      if (r.probeOnFirst && ports[0]?.name) c.livenessProbe = { httpGet: { path: '/h', port: ports[0].name } };
      return c;
    });
    const annotations: Record<string, string> = { 'mcp-warden.dev/inject': 'true', 'mcp-warden.dev/apikey-secret': 'keys' };
    if (r.pick !== null) annotations['mcp-warden.dev/container'] = r.containerNames[r.pick % r.containerNames.length]!;
    if (r.upstream !== null) annotations['mcp-warden.dev/upstream-port'] = String(r.upstream);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: r.hasAnnotations ? { name: 'p', annotations } : { name: 'p', labels: { 'mcp-warden.dev/inject': 'true' } },
      spec: { containers, ...(r.initNames.length > 0 ? { initContainers: r.initNames.map((name) => ({ name, image: 'example/init:1' })) } : {}) },
    };
    return { pod: pod as unknown as PodLike, native: r.native };
  });

test('property: patches always apply, results are valid pods, and injection is idempotent', () => {
  let injected = 0;
  fc.assert(
    fc.property(podArb, ({ pod, native }) => {
      const before = JSON.stringify(pod);
      const r = inject(pod, 'apps', DEFAULT_WEBHOOK_CONFIG, { nativeSidecar: native });
      assert.equal(JSON.stringify(pod), before, 'the input is never modified');
      if (r.action === 'rejected') {
        assert.ok(r.error.issues.length > 0 && r.error.message.length > 0);
        return;
      }
      assert.equal(r.action, 'injected');
      if (r.action !== 'injected') return;
      injected++;
      const applied = structuredClone(pod);
      assert.deepEqual(applyPatch(applied, r.patch as never).filter((x) => x !== null), []);
      assert.deepEqual(applied, JSON.parse(JSON.stringify(r.object)));
      assert.deepEqual(podProblems(applied as never), []);
      const again = inject(applied, 'apps', DEFAULT_WEBHOOK_CONFIG, { nativeSidecar: native });
      assert.ok(again.action === 'injected' && again.patch.length === 0, 'second pass changes nothing');
    }),
    { numRuns: 300, seed: 20261123 },
  );
  assert.ok(injected > 50, `enough injected cases (${injected})`);
});

test('property: the by-name list diff applies with rfc6902 for any two pod specs', async () => {
  const { diff } = await import('../../webhook/inject/patch.ts');
  const item = fc.record({ name: fc.constantFrom('a', 'b', 'c', 'd', 'e'), v: fc.nat(3), extra: fc.option(fc.string({ maxLength: 3 })) });
  const list = fc.option(fc.uniqueArray(item, { selector: (x) => x.name, maxLength: 5 }));
  const spec = fc.record({ containers: list, initContainers: list, volumes: list, other: fc.nat(2) });
  fc.assert(
    fc.property(spec, spec, (a, b) => {
      const clean = (s: Record<string, unknown>) => JSON.parse(JSON.stringify({ metadata: { annotations: { 'x/y~z': String(s.other) } }, spec: Object.fromEntries(Object.entries(s).filter(([, v]) => v !== null)) }));
      const from = clean(a);
      const to = clean(b);
      const patched = structuredClone(from);
      assert.deepEqual(applyPatch(patched, diff(from, to) as never).filter((x) => x !== null), []);
      assert.deepEqual(patched, to);
    }),
    { numRuns: 500, seed: 7 },
  );
});

test('switching between native and regular sidecars moves the sidecar with a patch that applies', () => {
  const pod = { metadata: { name: 'p', annotations: { 'mcp-warden.dev/inject': 'true' } }, spec: { initContainers: [{ name: 'init', image: 'i' }], containers: [{ name: 's', image: 'i', ports: [{ name: 'mcp', containerPort: 3000 }] }] } } as unknown as PodLike;
  const native = inject(pod, 'apps', DEFAULT_WEBHOOK_CONFIG, { nativeSidecar: true });
  assert.equal(native.action, 'injected');
  if (native.action !== 'injected') return;
  const regular = inject(native.object, 'apps', DEFAULT_WEBHOOK_CONFIG, { nativeSidecar: false });
  assert.equal(regular.action, 'injected');
  if (regular.action !== 'injected') return;
  const applied = structuredClone(native.object);
  assert.deepEqual(applyPatch(applied, regular.patch as never).filter((x) => x !== null), []);
  assert.deepEqual(applied.spec.initContainers!.map((c) => c.name), ['init']);
  assert.deepEqual(applied.spec.containers.map((c) => c.name), ['mcp-warden-sidecar', 's']);
  assert.ok(regular.patch.some((op) => op.op === 'remove' && op.path === '/spec/initContainers/0'));
});
