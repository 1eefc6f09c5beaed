/**
 * Pods the injector must refuse rather than mangle or crash on (issue 9, items 15 and 16), at every
 * edge: the pure inject() core, the CLI as the shipped bundle and from the checkout, and the HTTPS
 * webhook answering AdmissionReview v1 as the API server sends it.
 *  - A pod's own container named `mcp-warden-sidecar` (in containers or initContainers, privileged
 *    or not) is rejected, naming it; a pod that mcp-warden really injected still re-injects with an
 *    empty patch.
 *  - Wrong types anywhere inject() reads are rejected with one message naming the field path, never
 *    a TypeError, a stack trace or a 500.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { DEFAULT_WEBHOOK_CONFIG } from '../../webhook/config.ts';
import { WEBHOOK_ERR } from '../../webhook/errors.ts';
import { inject } from '../../webhook/inject/inject.ts';
import { MAX_SHAPE_ISSUES } from '../../webhook/inject/shape.ts';
import type { PodLike } from '../../webhook/inject/types.ts';
import { isolatedBundle } from '../helpers/bundle.ts';
import { admissionReview } from './helpers/review.ts';
import { useHttpsWebhook } from './helpers/https-webhook.ts';
import { runNode } from '../helpers/run-node.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ROOT = join(import.meta.dirname, '..', '..');
const SIDECAR = 'mcp-warden-sidecar';
const OPTS = { nativeSidecar: true };

const basePod = (): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'mcp', namespace: 'apps', labels: { app: 'mcp' }, annotations: { 'mcp-warden.dev/inject': 'true', 'mcp-warden.dev/apikey-secret': 'keys' } },
  spec: {
    containers: [
      {
        name: 'server',
        image: 'example/mcp:1',
        ports: [{ name: 'mcp', containerPort: 3000 }],
        livenessProbe: { httpGet: { path: '/health', port: 'mcp' } },
        lifecycle: { preStop: { httpGet: { path: '/stop', port: 'mcp' } } },
      },
    ],
    initContainers: [{ name: 'setup', image: 'example/setup:1' }],
    volumes: [{ name: 'data', emptyDir: {} }],
  },
});

/** stdio mode reads more of the MCP container: command, args, volumeMounts, terminationMessagePath, image. */
const stdioPod = (): Obj => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'mcp', namespace: 'apps', labels: { app: 'mcp' }, annotations: { 'mcp-warden.dev/inject': 'true', 'mcp-warden.dev/transport': 'stdio', 'mcp-warden.dev/apikey-secret': 'keys' } },
  spec: {
    containers: [
      {
        name: 'server',
        image: 'example/stdio:1',
        command: ['node', 'server.js'],
        args: ['stdio'],
        terminationMessagePath: '/dev/termination-log',
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
        ports: [{ name: 'metrics', containerPort: 9090 }],
      },
    ],
    initContainers: [{ name: 'setup', image: 'example/setup:1' }],
    volumes: [{ name: 'data', emptyDir: {} }],
  },
});

/** The same server with its command from the stdio-command annotation (the image's ENTRYPOINT is used). */
const stdioEntrypointPod = (): Obj => {
  const p = stdioPod();
  p.metadata.annotations['mcp-warden.dev/stdio-command'] = '["node", "server.js"]';
  delete p.spec.containers[0].command;
  return p;
};

const withStdio = (edit: (p: Obj) => void): Obj => {
  const p = stdioPod();
  edit(p);
  return p;
};

const privileged = { name: SIDECAR, image: 'attacker/tool:1', securityContext: { privileged: true, runAsUser: 0 } };

const withPod = (edit: (p: Obj) => void): Obj => {
  const p = basePod();
  edit(p);
  return p;
};

// ---- 15: the reserved sidecar name ---------------------------------------------------------

const RESERVED: ReadonlyArray<{ name: string; pod: () => Obj; paths: string[] }> = [
  { name: 'own privileged container named like the sidecar', pod: () => withPod((p) => p.spec.containers.push(privileged)), paths: ['spec.containers[1].name'] },
  { name: 'own init container named like the sidecar', pod: () => withPod((p) => p.spec.initContainers.unshift({ ...privileged, restartPolicy: 'Always' })), paths: ['spec.initContainers[0].name'] },
  {
    name: 'own container next to a really injected native sidecar',
    pod: () => {
      const r = inject(basePod() as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS);
      assert.equal(r.action, 'injected');
      const p = structuredClone((r as { object: Obj }).object);
      p.spec.containers.push(privileged);
      return p;
    },
    paths: ['spec.containers[1].name'],
  },
  {
    name: 'a status record that says native, with the container in containers',
    pod: () => {
      const r = inject(basePod() as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS);
      const p = structuredClone((r as { object: Obj }).object);
      const own = p.spec.initContainers.shift();
      p.spec.containers.push({ ...own, ...privileged, restartPolicy: undefined });
      return JSON.parse(JSON.stringify(p));
    },
    paths: ['spec.containers[1].name'],
  },
];

for (const c of RESERVED) {
  test(`reserved name, core: ${c.name} is rejected, naming it`, () => {
    const pod = c.pod();
    const before = JSON.stringify(pod);
    const r = inject(pod as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS);
    assert.equal(JSON.stringify(pod), before, 'the input is never modified');
    assert.equal(r.action, 'rejected');
    if (r.action !== 'rejected') return;
    assert.equal(r.error.code, WEBHOOK_ERR.POD_UNINJECTABLE);
    assert.deepEqual(
      r.error.issues.filter((i) => i.value === JSON.stringify(SIDECAR)).map((i) => i.setting),
      c.paths,
    );
    for (const p of c.paths) assert.ok(r.error.message.includes(`${p}: got "${SIDECAR}"`), r.error.message);
    assert.match(r.error.message, /reserved for the injected sidecar/);
  });
}

test('reserved name, core: a pod mcp-warden injected earlier (native or regular) re-injects with an empty patch', () => {
  for (const nativeSidecar of [true, false]) {
    const first = inject(basePod() as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, { nativeSidecar });
    assert.equal(first.action, 'injected');
    if (first.action !== 'injected') continue;
    const again = inject(JSON.parse(JSON.stringify(first.object)), 'apps', DEFAULT_WEBHOOK_CONFIG, { nativeSidecar });
    assert.equal(again.action, 'injected', again.action === 'rejected' ? again.error.message : '');
    assert.deepEqual(again.action === 'injected' ? again.patch : null, []);
    // Moving between native and regular still works: the record says where the sidecar was.
    const moved = inject(JSON.parse(JSON.stringify(first.object)), 'apps', DEFAULT_WEBHOOK_CONFIG, { nativeSidecar: !nativeSidecar });
    assert.equal(moved.action, 'injected', moved.action === 'rejected' ? moved.error.message : '');
  }
});

// ---- 16: malformed pods ---------------------------------------------------------------------

/** Each case breaks one field inject() reads; `path` is the field the message must name. */
const MALFORMED: ReadonlyArray<{ path: string; edit: (p: Obj) => unknown }> = [
  { path: '(pod)', edit: () => null },
  { path: '(pod)', edit: () => [] },
  { path: 'spec', edit: (p) => ((p.spec = null), p) },
  { path: 'spec', edit: (p) => ((p.spec = 'x'), p) },
  { path: 'spec.containers', edit: (p) => (delete p.spec.containers, p) },
  { path: 'spec.containers', edit: (p) => ((p.spec.containers = { name: 'server' }), p) },
  { path: 'spec.containers[0]', edit: (p) => ((p.spec.containers = [null]), p) },
  { path: 'spec.containers[1]', edit: (p) => (p.spec.containers.push('sidecar'), p) },
  { path: 'spec.containers[0].name', edit: (p) => ((p.spec.containers[0].name = 7), p) },
  { path: 'spec.containers[0].ports', edit: (p) => ((p.spec.containers[0].ports = 'x'), p) },
  { path: 'spec.containers[0].ports[0]', edit: (p) => ((p.spec.containers[0].ports = [null]), p) },
  { path: 'spec.containers[0].ports[0].containerPort', edit: (p) => ((p.spec.containers[0].ports[0].containerPort = '3000'), p) },
  { path: 'spec.containers[0].ports[0].containerPort', edit: (p) => ((p.spec.containers[0].ports[0].containerPort = 70000), p) },
  { path: 'spec.containers[0].ports[0].name', edit: (p) => ((p.spec.containers[0].ports[0].name = ['mcp']), p) },
  { path: 'spec.containers[0].livenessProbe', edit: (p) => ((p.spec.containers[0].livenessProbe = 'x'), p) },
  { path: 'spec.containers[0].livenessProbe.httpGet', edit: (p) => ((p.spec.containers[0].livenessProbe.httpGet = 1), p) },
  { path: 'spec.containers[0].livenessProbe.httpGet.port', edit: (p) => ((p.spec.containers[0].livenessProbe.httpGet.port = {}), p) },
  { path: 'spec.containers[0].lifecycle', edit: (p) => ((p.spec.containers[0].lifecycle = []), p) },
  { path: 'spec.containers[0].lifecycle.preStop', edit: (p) => ((p.spec.containers[0].lifecycle.preStop = true), p) },
  { path: 'spec.initContainers', edit: (p) => ((p.spec.initContainers = {}), p) },
  { path: 'spec.initContainers[0]', edit: (p) => ((p.spec.initContainers = [0]), p) },
  { path: 'spec.volumes', edit: (p) => ((p.spec.volumes = 'data'), p) },
  { path: 'spec.volumes[0]', edit: (p) => ((p.spec.volumes = [1]), p) },
  { path: 'spec.volumes[0].name', edit: (p) => (delete p.spec.volumes[0].name, p) },
  { path: 'spec.hostNetwork', edit: (p) => ((p.spec.hostNetwork = 'yes'), p) },
  { path: 'metadata', edit: (p) => ((p.metadata = 'mcp'), p) },
  { path: 'metadata.annotations', edit: (p) => ((p.metadata.annotations = ['mcp-warden.dev/inject']), p) },
  // YAML's bare true is a boolean: today it silently reads as "not annotated".
  { path: 'metadata.annotations["mcp-warden.dev/inject"]', edit: (p) => ((p.metadata.annotations['mcp-warden.dev/inject'] = true), p) },
  { path: 'metadata.labels["mcp-warden.dev/inject"]', edit: (p) => ((p.metadata.labels['mcp-warden.dev/inject'] = 1), p) },
  { path: 'metadata.namespace', edit: (p) => ((p.metadata.namespace = 5), p) },
];

const NO_STACK = /TypeError|ReferenceError|\n\s+at |\.ts:\d+|\.mjs:\d+/;

for (const c of MALFORMED) {
  test(`malformed, core: ${c.path} of the wrong type is rejected, naming the field`, () => {
    const pod = c.edit(basePod());
    const r = inject(pod as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS);
    assert.equal(r.action, 'rejected');
    if (r.action !== 'rejected') return;
    assert.equal(r.error.code, WEBHOOK_ERR.POD_UNINJECTABLE);
    assert.deepEqual(r.error.issues.map((i) => i.setting), [c.path]);
    assert.ok(r.error.message.startsWith(`mcp-warden: cannot inject the sidecar (1 problem): ${c.path}: got `), r.error.message);
    assert.doesNotMatch(r.error.message, NO_STACK);
  });
}

/** Fields only stdio mode reads: each case breaks one on the stdio pod. */
const MALFORMED_STDIO: ReadonlyArray<{ path: string; edit: (p: Obj) => unknown }> = [
  { path: 'spec.containers[0].volumeMounts', edit: (p) => ((p.spec.containers[0].volumeMounts = 'x'), p) },
  { path: 'spec.containers[0].volumeMounts', edit: (p) => ((p.spec.containers[0].volumeMounts = { a: 1 }), p) },
  { path: 'spec.containers[0].volumeMounts[0]', edit: (p) => ((p.spec.containers[0].volumeMounts = [null]), p) },
  { path: 'spec.containers[0].volumeMounts[0].name', edit: (p) => ((p.spec.containers[0].volumeMounts[0].name = 1), p) },
  { path: 'spec.containers[0].volumeMounts[0].mountPath', edit: (p) => (delete p.spec.containers[0].volumeMounts[0].mountPath, p) },
  { path: 'spec.containers[0].command', edit: (p) => ((p.spec.containers[0].command = 'node server.js'), p) },
  { path: 'spec.containers[0].command[1]', edit: (p) => ((p.spec.containers[0].command = ['node', 1]), p) },
  { path: 'spec.containers[0].args', edit: (p) => ((p.spec.containers[0].args = { a: 1 }), p) },
  { path: 'spec.containers[0].args[0]', edit: (p) => ((p.spec.containers[0].args = [null]), p) },
  { path: 'spec.containers[0].terminationMessagePath', edit: (p) => ((p.spec.containers[0].terminationMessagePath = 5), p) },
  { path: 'spec.containers[0].image', edit: (p) => ((p.spec.containers[0].image = ['example/stdio:1']), p) },
];

for (const c of MALFORMED_STDIO) {
  test(`malformed, core (stdio mode): ${c.path} of the wrong type is rejected, naming the field`, () => {
    const r = inject(c.edit(stdioPod()) as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS);
    assert.equal(r.action, 'rejected');
    if (r.action !== 'rejected') return;
    assert.equal(r.error.code, WEBHOOK_ERR.POD_UNINJECTABLE);
    assert.deepEqual(r.error.issues.map((i) => i.setting), [c.path]);
    assert.doesNotMatch(r.error.message, NO_STACK);
  });
}

test('malformed, core (stdio mode): null counts as unset for what the wrapper reads', () => {
  const r = inject(withStdio((p) => Object.assign(p.spec.containers[0], { args: null, volumeMounts: null, terminationMessagePath: null })) as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS);
  assert.equal(r.action, 'injected', r.action === 'rejected' ? r.error.message : '');
  const e = inject(withStdio((p) => Object.assign(p.spec.containers[0], { command: null }) && (p.metadata.annotations['mcp-warden.dev/stdio-command'] = '["node"]')) as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS);
  assert.equal(e.action, 'injected', e.action === 'rejected' ? e.error.message : '');
});

test('malformed, core: the value is shown as JSON (5 apart from "5") and null counts as unset where optional', () => {
  const r = inject(withPod((p) => (p.spec.containers[0].ports[0].containerPort = '3000')) as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS);
  assert.ok(r.action === 'rejected' && r.error.message.includes('containerPort: got "3000"; expected a port number from 1 to 65535'));
  const n = inject(withPod((p) => (p.spec.containers = [null])) as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS);
  assert.ok(n.action === 'rejected' && n.error.message.includes('spec.containers[0]: got null; expected a container'));
  // Optional fields that are null are unset, as the API server decodes them.
  const nulls = withPod((p) => Object.assign(p.spec, { initContainers: null, volumes: null, hostNetwork: null }));
  nulls.spec.containers[0].livenessProbe = null;
  nulls.metadata.labels = null;
  assert.equal(inject(nulls as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS).action, 'injected');
});

test('malformed, core: every problem at once, bounded: the first few, then a count', () => {
  const pod = withPod((p) => (p.spec.containers = [p.spec.containers[0], ...Array.from({ length: 500 }, () => null)]));
  const r = inject(pod as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS);
  assert.ok(r.action === 'rejected');
  assert.equal(r.error.issues.length, MAX_SHAPE_ISSUES + 1);
  assert.equal(r.error.issues[0]!.setting, 'spec.containers[1]');
  assert.match(r.error.message, /490 more/);
  assert.ok(r.error.message.length < 2000, `${r.error.message.length} characters`);
});

test('malformed, core: a pod that declares every name the sidecar could take is refused, not thrown on', () => {
  const names = ['mcp-warden', ...Array.from({ length: 98 }, (_, i) => `mcp-warden${i + 2}`)];
  const pod = withPod((p) => {
    delete p.spec.containers[0].ports[0].name;
    delete p.spec.containers[0].livenessProbe;
    delete p.spec.containers[0].lifecycle;
    p.spec.containers.push({ name: 'many', image: 'x', ports: names.map((name, i) => ({ name, containerPort: 20000 + i })) });
  });
  const r = inject(pod as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS);
  assert.ok(r.action === 'rejected', r.action);
  assert.match(r.error.message, /spec\.containers\[\*\]\.ports: got .*; expected a free port name derived from "mcp-warden"/);
});

test('reserved, core (stdio mode): a wrapped command that no status record explains is refused, naming it, never wrapped twice or guessed back', () => {
  const first = inject(stdioPod() as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS);
  assert.equal(first.action, 'injected');
  // What is left of an injected pod once the record and every other part mcp-warden added are removed by hand.
  const p = structuredClone((first as { object: Obj }).object);
  delete p.metadata.annotations['mcp-warden.dev/status'];
  p.spec.initContainers = p.spec.initContainers.filter((c: Obj) => !c.name.startsWith('mcp-warden'));
  p.spec.volumes = p.spec.volumes.filter((v: Obj) => !v.name.startsWith('mcp-warden'));
  p.spec.containers[0].volumeMounts = p.spec.containers[0].volumeMounts.filter((m: Obj) => m.name !== 'mcp-warden-stdio');
  const r = inject(p as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS);
  assert.equal(r.action, 'rejected');
  assert.ok(r.action === 'rejected' && r.error.issues.map((i) => i.setting).join() === 'spec.containers[0].command', r.action === 'rejected' ? r.error.message : '');
  assert.match(r.action === 'rejected' ? r.error.message : '', /mcp-warden's stdio wrapper.*no status record/);
});

test('malformed, core (stdio mode): a pod that declares every name the sidecar could take is refused, not thrown on', () => {
  const names = ['mcp-warden', ...Array.from({ length: 98 }, (_, i) => `mcp-warden${i + 2}`)];
  const r = inject(withStdio((p) => p.spec.containers.push({ name: 'many', image: 'x', ports: names.map((name, i) => ({ name, containerPort: 20000 + i })) })) as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS);
  assert.ok(r.action === 'rejected', r.action);
  assert.match(r.error.message, /spec\.containers\[\*\]\.ports: got .*; expected a free port name for the sidecar and the stdio bridge/);
});

/** Every path inject() reads, in a pod that injects cleanly; the property replaces one with anything. */
const READ_PATHS: ReadonlyArray<readonly (string | number)[]> = [
  [],
  ['metadata'],
  ['metadata', 'name'],
  ['metadata', 'labels'],
  ['metadata', 'labels', 'app'],
  ['metadata', 'annotations'],
  ['metadata', 'annotations', 'mcp-warden.dev/inject'],
  ['metadata', 'annotations', 'mcp-warden.dev/status'],
  ['spec'],
  ['spec', 'containers'],
  ['spec', 'containers', 0],
  ['spec', 'containers', 0, 'name'],
  ['spec', 'containers', 0, 'ports'],
  ['spec', 'containers', 0, 'ports', 0],
  ['spec', 'containers', 0, 'ports', 0, 'name'],
  ['spec', 'containers', 0, 'ports', 0, 'containerPort'],
  ['spec', 'containers', 0, 'livenessProbe'],
  ['spec', 'containers', 0, 'livenessProbe', 'httpGet'],
  ['spec', 'containers', 0, 'livenessProbe', 'httpGet', 'port'],
  ['spec', 'containers', 0, 'lifecycle'],
  ['spec', 'containers', 0, 'lifecycle', 'preStop'],
  ['spec', 'containers', 0, 'lifecycle', 'preStop', 'httpGet', 'port'],
  ['spec', 'initContainers'],
  ['spec', 'initContainers', 0],
  ['spec', 'initContainers', 0, 'name'],
  ['spec', 'volumes'],
  ['spec', 'volumes', 0],
  ['spec', 'volumes', 0, 'name'],
  ['spec', 'hostNetwork'],
];

/** What stdio mode reads on top of READ_PATHS (the stdio pod has no probes or lifecycle). */
const STDIO_READ_PATHS: ReadonlyArray<readonly (string | number)[]> = [
  ...READ_PATHS.filter((p) => !p.includes('livenessProbe') && !p.includes('lifecycle')),
  ['metadata', 'annotations', 'mcp-warden.dev/transport'],
  ['spec', 'containers', 0, 'image'],
  ['spec', 'containers', 0, 'command'],
  ['spec', 'containers', 0, 'command', 0],
  ['spec', 'containers', 0, 'args'],
  ['spec', 'containers', 0, 'args', 0],
  ['spec', 'containers', 0, 'terminationMessagePath'],
  ['spec', 'containers', 0, 'volumeMounts'],
  ['spec', 'containers', 0, 'volumeMounts', 0],
  ['spec', 'containers', 0, 'volumeMounts', 0, 'name'],
  ['spec', 'containers', 0, 'volumeMounts', 0, 'mountPath'],
];
const ENTRYPOINT_READ_PATHS: ReadonlyArray<readonly (string | number)[]> = [
  ...STDIO_READ_PATHS.filter((p) => !p.includes('command')),
  ['metadata', 'annotations', 'mcp-warden.dev/stdio-command'],
];

const BASES = [
  { mode: 'http', pod: basePod, paths: READ_PATHS },
  { mode: 'stdio', pod: stdioPod, paths: STDIO_READ_PATHS },
  { mode: 'stdio with stdio-command', pod: stdioEntrypointPod, paths: ENTRYPOINT_READ_PATHS },
] as const;

function setAt(root: Obj, path: readonly (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  let o = root;
  // An injected pod lacks some fields of the fresh one (a wrapped container has no args): made.
  for (const [i, k] of path.slice(0, -1).entries()) o = o[k] ??= typeof path[i + 1] === 'number' ? [] : {};
  o[path.at(-1)!] = value;
  return root;
}

for (const base of BASES) {
  test(`property (${base.mode}): any JSON value at any field inject() reads, on a fresh or an injected pod, never throws`, () => {
    const first = inject(base.pod() as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS);
    assert.equal(first.action, 'injected', first.action === 'rejected' ? first.error.message : '');
    const injected = (first as { object: Obj }).object;
    let rejected = 0;
    fc.assert(
      fc.property(fc.constantFrom(...base.paths), fc.jsonValue({ maxDepth: 2 }), fc.boolean(), (path, value, onInjected) => {
        const start = onInjected ? structuredClone(injected) : base.pod();
        const pod = setAt(start, path, value);
        let r;
        try {
          r = inject(pod as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS);
        } catch (err) {
          assert.fail(`inject threw ${(err as Error).stack} for ${JSON.stringify(path)} = ${JSON.stringify(value)}`);
        }
        if (r.action !== 'rejected') return;
        rejected++;
        assert.ok(r.error.issues.length > 0);
        assert.doesNotMatch(r.error.message, NO_STACK);
      }),
      { numRuns: 1500, seed: 20261124 },
    );
    assert.ok(rejected > 300, `enough rejected cases (${rejected})`);
  });
}

// ---- the CLI: the shipped bundle and the checkout ------------------------------------------

const tmp = mkdtempSync(join(tmpdir(), 'mcp-warden-hostile-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const run = (args: string[]) => runNode(args, { cwd: ROOT });

const yamlFile = (name: string, docs: unknown[]): string => {
  const f = join(tmp, name);
  writeFileSync(f, docs.map((d) => stringify(d)).join('---\n'));
  return f;
};

test('CLI (dist/cli.mjs alone, and bin/mcp-warden.mjs): malformed pods and templates exit 1 naming the field, no stack trace', async () => {
  const cli = isolatedBundle('cli');
  const pod = yamlFile('null-container.yaml', [withPod((p) => (p.spec.containers = [null]))]);
  const ports = yamlFile('ports-string.yaml', [
    { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'mcp', namespace: 'apps' }, spec: { selector: { matchLabels: { app: 'mcp' } }, template: withPod((p) => (p.spec.containers[0].ports = 'x')) } },
  ]);
  for (const entry of [cli, 'bin/mcp-warden.mjs']) {
    const a = await run([entry, 'inject', '-f', pod]);
    assert.equal(a.code, 1, a.stderr);
    assert.equal(a.stdout, '');
    assert.equal(a.stderr, 'Pod/mcp: mcp-warden: cannot inject the sidecar (1 problem): spec.containers[0]: got null; expected a container (an object with a name)\n');
    const b = await run([entry, 'inject', '-f', ports]);
    assert.equal(b.code, 1, b.stderr);
    assert.equal(b.stderr, 'Deployment/mcp: in the pod template at spec.template: mcp-warden: cannot inject the sidecar (1 problem): spec.containers[0].ports: got "x"; expected a list of container ports\n');
  }
});

test('CLI (dist/cli.mjs alone, and bin/mcp-warden.mjs), stdio mode: volumeMounts of the wrong type exit 1 naming the field, no stack trace', async () => {
  const cli = isolatedBundle('cli');
  const pod = yamlFile('stdio-mounts.yaml', [withStdio((p) => (p.spec.containers[0].volumeMounts = [null]))]);
  for (const entry of [cli, 'bin/mcp-warden.mjs']) {
    const r = await run([entry, 'inject', '-f', pod]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'Pod/mcp: mcp-warden: cannot inject the sidecar (1 problem): spec.containers[0].volumeMounts[0]: got null; expected a volume mount (an object with name and mountPath)\n');
  }
});

test('CLI (dist/cli.mjs alone): an own container named mcp-warden-sidecar exits 1 naming it; our own output re-injects unchanged', async () => {
  const cli = isolatedBundle('cli');
  const own = yamlFile('own-sidecar.yaml', [withPod((p) => p.spec.containers.push(privileged))]);
  const r = await run([cli, 'inject', '-f', own]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^Pod\/mcp: mcp-warden: cannot inject the sidecar \(1 problem\): spec\.containers\[1\]\.name: got "mcp-warden-sidecar"; expected another name/);
  assert.doesNotMatch(r.stderr, NO_STACK);
  const fresh = await run([cli, 'inject', '-f', yamlFile('fresh.yaml', [basePod()])]);
  assert.equal(fresh.code, 0, fresh.stderr);
  const outFile = join(tmp, 'injected.yaml');
  writeFileSync(outFile, fresh.stdout);
  const again = await run([cli, 'inject', '-f', outFile]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, fresh.stdout);
});

// ---- the webhook over HTTPS --------------------------------------------------------------

const webhook = useHttpsWebhook();
const post = webhook.post;

test('webhook (HTTPS, AdmissionReview v1): malformed pods get 200 and allowed false naming the field, never a 500', async () => {
  const cases: Array<[Obj, string]> = [
    [withPod((p) => (p.spec.containers = [null])), 'spec.containers[0]: got null'],
    [withPod((p) => (p.spec.containers[0].ports = 'x')), 'spec.containers[0].ports: got "x"'],
    [withPod((p) => (p.spec.containers[0].livenessProbe.httpGet = 1)), 'spec.containers[0].livenessProbe.httpGet: got 1'],
    [withPod((p) => (p.spec.volumes = [1])), 'spec.volumes[0]: got 1'],
    // stdio mode reads the MCP container's volumeMounts.
    [withStdio((p) => (p.spec.containers[0].volumeMounts = 'x')), 'spec.containers[0].volumeMounts: got "x"'],
    [withStdio((p) => (p.spec.containers[0].volumeMounts = [null])), 'spec.containers[0].volumeMounts[0]: got null'],
    [withStdio((p) => (p.spec.containers[0].volumeMounts = { a: 1 })), 'spec.containers[0].volumeMounts: got {"a":1}'],
  ];
  for (const [pod, expected] of cases) {
    const review = admissionReview(pod, { namespace: 'apps' });
    const r = await post(review);
    assert.equal(r.status, 200, r.body);
    const body = r.json();
    assert.equal(body.response.uid, review.request.uid);
    assert.equal(body.response.allowed, false);
    assert.equal(body.response.status.code, 400);
    assert.ok(body.response.status.message.includes(expected), body.response.status.message);
    assert.doesNotMatch(body.response.status.message, NO_STACK);
  }
  const metrics = (await webhook.get('/metrics')).body;
  assert.match(metrics, /mcp_warden_webhook_admissions_total\{result="rejected"\} ([7-9]|\d\d)/);
  assert.doesNotMatch(metrics, /result="invalid"\} [1-9]/);
});

test('webhook (HTTPS, AdmissionReview v1): an own mcp-warden-sidecar container is refused naming it; a really injected pod is allowed with no patch', async () => {
  for (const [pod, path] of [[withPod((p) => p.spec.containers.push(privileged)), 'spec.containers[1].name'], [withPod((p) => p.spec.initContainers.unshift({ ...privileged, restartPolicy: 'Always' })), 'spec.initContainers[0].name']] as const) {
    const body = (await post(admissionReview(pod))).json();
    assert.equal(body.response.allowed, false);
    assert.ok(body.response.status.message.includes(`${path}: got "${SIDECAR}"`), body.response.status.message);
  }
  const first = inject(basePod() as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS);
  assert.equal(first.action, 'injected');
  const again = (await post(admissionReview(JSON.parse(JSON.stringify((first as { object: Obj }).object))))).json();
  assert.equal(again.response.allowed, true);
  assert.equal(again.response.patch, undefined);
});

test('reserved names and paths, core: each refused by its numeric path in the pod as submitted', () => {
  const cases: Array<[Obj, boolean, string, string]> = [
    [withPod((p) => p.spec.volumes.push({ name: 'mcp-warden-apikey', emptyDir: {} })), true, 'spec.volumes[1].name', 'another name: "mcp-warden-apikey" is reserved for mcp-warden'],
    [withStdio((p) => p.spec.volumes.push({ name: 'mcp-warden-stdio', emptyDir: {} })), true, 'spec.volumes[1].name', 'another name: "mcp-warden-stdio" is reserved for mcp-warden'],
    [withStdio((p) => p.spec.containers[0].volumeMounts.push({ name: 'data', mountPath: '/var/run/mcp-warden/stdio' })), true, 'spec.containers[0].volumeMounts[1].mountPath', "another path: /var/run/mcp-warden/stdio is reserved for mcp-warden's FIFOs"],
    [withStdio((p) => (p.spec.containers[0].image = 'gcr.io/distroless/nodejs24-debian12')), true, 'spec.containers[0].image', 'an image with /bin/sh'],
  ];
  // A regular sidecar and bridge come first: on re-injection the app is the third container of the pod as submitted.
  const regular = inject(stdioPod() as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, { nativeSidecar: false });
  assert.equal(regular.action, 'injected');
  const again = structuredClone((regular as { object: Obj }).object);
  assert.equal(again.spec.containers[2].name, 'server');
  again.spec.containers[2].image = 'gcr.io/distroless/nodejs24-debian12';
  cases.push([again, false, 'spec.containers[2].image', 'an image with /bin/sh']);
  for (const [pod, nativeSidecar, path, expected] of cases) {
    const r = inject(pod as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, { nativeSidecar });
    assert.ok(r.action === 'rejected', path);
    assert.deepEqual(r.error.issues.map((i) => i.setting), [path]);
    assert.ok(r.error.issues[0]!.expected.startsWith(expected), r.error.message);
  }
});

test('reserved name, core: an own port named warden-admin (the admin port scrapes select by name) is rejected, naming it', () => {
  const r = inject(withPod((p) => p.spec.initContainers[0].ports = [{ name: 'warden-admin', containerPort: 9000 }]) as PodLike, 'apps', DEFAULT_WEBHOOK_CONFIG, OPTS);
  assert.equal(r.action, 'rejected');
  assert.ok(r.action === 'rejected' && r.error.message.includes('spec.initContainers[0].ports[0].name: got "warden-admin"; expected another port name'), r.action === 'rejected' ? r.error.message : '');
  assert.ok(r.action === 'rejected' && r.error.code === WEBHOOK_ERR.POD_UNINJECTABLE);
});
