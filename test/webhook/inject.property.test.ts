/**
 * Property: for every pod shape (containers, ports, names, probes, init containers, annotations, HTTP
 * or stdio mode, the argv in the spec or in stdio-command), inject() never throws; when it injects,
 * the patch applies with rfc6902 to exactly the injected object, the object passes the API-server
 * checks, and a second pass yields an empty patch.
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
    // stdio mode: the server's argv from the container's command, or from the stdio-command annotation.
    stdio: fc.constantFrom('no', 'command', 'stdio-command'),
    args: fc.option(fc.array(fc.constantFrom('stdio', '--verbose'), { maxLength: 2 })),
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
    const stdio = r.stdio !== 'no';
    if (r.upstream !== null && !stdio) annotations['mcp-warden.dev/upstream-port'] = String(r.upstream);
    if (stdio) {
      annotations['mcp-warden.dev/transport'] = 'stdio';
      const app = containers.find((c) => c.name === (annotations['mcp-warden.dev/container'] ?? r.containerNames[0]))!;
      if (r.stdio === 'command') app.command = ['node', 'server.js'];
      else annotations['mcp-warden.dev/stdio-command'] = '["node", "server.js"]';
      if (r.args) app.args = r.args;
    }
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: r.hasAnnotations || stdio ? { name: 'p', annotations } : { name: 'p', labels: { 'mcp-warden.dev/inject': 'true' } },
      spec: { containers, ...(r.initNames.length > 0 ? { initContainers: r.initNames.map((name) => ({ name, image: 'example/init:1' })) } : {}) },
    };
    return { pod: pod as unknown as PodLike, native: r.native, stdio: r.stdio };
  });

test('property: patches always apply, results are valid pods, and injection is idempotent (HTTP and stdio mode)', () => {
  let injected = 0;
  const stdioInjected = { command: 0, 'stdio-command': 0 };
  fc.assert(
    fc.property(podArb, ({ pod, native, stdio }) => {
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
      if (stdio !== 'no') {
        stdioInjected[stdio]++;
        assert.equal(r.status.stdio?.bridge, 'mcp-warden-stdio', 'injected in stdio mode');
      }
      const applied = structuredClone(pod);
      assert.deepEqual(applyPatch(applied, r.patch as never).filter((x) => x !== null), []);
      assert.deepEqual(applied, JSON.parse(JSON.stringify(r.object)));
      assert.deepEqual(podProblems(applied as never), []);
      const again = inject(applied, 'apps', DEFAULT_WEBHOOK_CONFIG, { nativeSidecar: native });
      assert.ok(again.action === 'injected' && again.patch.length === 0, 'second pass changes nothing');
    }),
    { numRuns: 450, seed: 20261123 },
  );
  assert.ok(injected > 100, `enough injected cases (${injected})`);
  assert.ok(stdioInjected.command > 30 && stdioInjected['stdio-command'] > 30, `enough stdio cases (${JSON.stringify(stdioInjected)})`);
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

const stdioArb = fc.record({
  command: fc.option(fc.array(fc.constantFrom('node', '/app/server', 'python', '-m', 'mcp_server'), { minLength: 1, maxLength: 3 })),
  args: fc.option(fc.array(fc.constantFrom('stdio', '--verbose', '--root=/data'), { maxLength: 2 })),
  annotationArgv: fc.option(fc.array(fc.constantFrom('node', 'dist/index.js', 'npx', 'server'), { minLength: 1, maxLength: 3 })),
  ports: fc.uniqueArray(fc.constantFrom(8080, 9901, 9902, 9903, 9904, 3000), { maxLength: 4 }),
  otherContainer: fc.boolean(),
  native: fc.boolean(),
});

test('property (stdio mode): patches apply, pods are valid, re-injection is idempotent, the argv and ports are right', async () => {
  const { unwrapCommand } = await import('../../webhook/inject/stdio-wrapper.ts');
  let injected = 0;
  fc.assert(
    fc.property(stdioArb, (r) => {
      const server: Record<string, unknown> = { name: 'server', image: 'example/stdio:1' };
      if (r.command) server.command = r.command;
      if (r.args) server.args = r.args;
      const containers: Array<Record<string, unknown>> = [server];
      if (r.otherContainer) containers.push({ name: 'metrics', image: 'example/m:1', ports: r.ports.map((p, i) => ({ name: `p${i}`, containerPort: p })) });
      else if (r.ports.length > 0) server.ports = r.ports.map((p, i) => ({ name: `p${i}`, containerPort: p }));
      const annotations: Record<string, string> = { 'mcp-warden.dev/inject': 'true', 'mcp-warden.dev/transport': 'stdio' };
      if (r.annotationArgv) annotations['mcp-warden.dev/stdio-command'] = JSON.stringify(r.annotationArgv);
      const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', annotations }, spec: { containers } } as unknown as PodLike;
      const res = inject(pod, 'apps', DEFAULT_WEBHOOK_CONFIG, { nativeSidecar: r.native });
      const head = r.command ?? r.annotationArgv;
      if (!head || (r.command && r.annotationArgv)) {
        assert.equal(res.action, 'rejected', 'no argv known, or two sources: rejected');
        return;
      }
      assert.equal(res.action, 'injected', res.action === 'rejected' ? res.error.message : '');
      if (res.action !== 'injected') return;
      injected++;
      const applied = structuredClone(pod);
      assert.deepEqual(applyPatch(applied, res.patch as never).filter((x) => x !== null), []);
      assert.deepEqual(podProblems(applied as never), []);
      const app = applied.spec.containers.find((c) => c.name === 'server')!;
      assert.deepEqual(unwrapCommand(app.command as string[]), [...head, ...(r.args ?? [])], 'the wrapped argv is command (or the annotation) then args');
      assert.equal(app.args, undefined);
      const all = [...(applied.spec.initContainers ?? []), ...applied.spec.containers];
      const bridge = all.find((c) => c.name === 'mcp-warden-stdio')!;
      const sidecar = all.find((c) => c.name === 'mcp-warden-sidecar')!;
      const env = (c: typeof bridge, name: string) => (c.env as Array<{ name: string; value: string }>).find((e) => e.name === name)?.value;
      const bridgePort = Number(env(bridge, 'MCP_STDIO_LISTEN_PORT'));
      assert.equal(env(sidecar, 'MCP_AUTH_UPSTREAM_URL'), `http://127.0.0.1:${bridgePort}`);
      const ours = [Number(env(sidecar, 'MCP_AUTH_LISTEN_PORT')), Number(env(sidecar, 'MCP_AUTH_ADMIN_PORT')), bridgePort, Number(env(bridge, 'MCP_STDIO_ADMIN_PORT'))];
      assert.equal(new Set(ours).size, 4, `four distinct ports: ${ours}`);
      for (const p of ours) assert.ok(!(r.ports as number[]).includes(p), `port ${p} is not one the pod declares`);
      const again = inject(applied, 'apps', DEFAULT_WEBHOOK_CONFIG, { nativeSidecar: r.native });
      assert.ok(again.action === 'injected' && again.patch.length === 0, 'second pass changes nothing');
      // Back to HTTP mode: the stdio parts go and the container's own command and args come back.
      const back = structuredClone(applied);
      back.metadata!.annotations!['mcp-warden.dev/transport'] = 'http';
      delete back.metadata!.annotations!['mcp-warden.dev/stdio-command'];
      back.spec.containers.find((c) => c.name === 'server')!.ports = [{ name: 'mcp', containerPort: 3100 }];
      const http = inject(back, 'apps', DEFAULT_WEBHOOK_CONFIG, { nativeSidecar: r.native });
      assert.equal(http.action, 'injected', http.action === 'rejected' ? http.error.message : '');
      if (http.action !== 'injected') return;
      const restored = http.object.spec.containers.find((c) => c.name === 'server')!;
      assert.deepEqual([restored.command, restored.args], [r.command ?? undefined, r.args ?? undefined]);
      assert.ok(![...(http.object.spec.initContainers ?? []), ...http.object.spec.containers].some((c) => c.name === 'mcp-warden-stdio'));
      assert.ok(!(http.object.spec.volumes ?? []).some((v) => v.name === 'mcp-warden-stdio'));
      assert.equal(restored.volumeMounts, undefined);
    }),
    { numRuns: 300, seed: 20261201 },
  );
  assert.ok(injected > 50, `enough injected cases (${injected})`);
});

test('stdio mode, reinvocation: a later webhook that changed command or args is undone; the saved command wins (webhook/README.md)', () => {
  const pod = { metadata: { name: 'p', annotations: { 'mcp-warden.dev/inject': 'true', 'mcp-warden.dev/transport': 'stdio' } }, spec: { containers: [{ name: 's', image: 'i', command: ['node', 'server.js'], args: ['stdio'] }] } } as unknown as PodLike;
  const first = inject(pod, 'apps', DEFAULT_WEBHOOK_CONFIG, { nativeSidecar: true });
  assert.equal(first.action, 'injected');
  if (first.action !== 'injected') return;
  const changed = structuredClone(first.object);
  Object.assign(changed.spec.containers[0]!, { command: ['/other-webhook/launcher', 'node', 'server.js'], args: ['--traced'] });
  const again = inject(changed, 'apps', DEFAULT_WEBHOOK_CONFIG, { nativeSidecar: true });
  assert.equal(again.action, 'injected');
  if (again.action !== 'injected') return;
  assert.deepEqual(again.object.spec.containers[0], first.object.spec.containers[0], 'the container as the first pass left it');
});
