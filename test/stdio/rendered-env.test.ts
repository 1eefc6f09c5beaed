/**
 * The bridge refuses an `MCP_STDIO_*` variable that is empty or no setting, as the sidecar does
 * its own (test/webhook/empty-values.test.ts checks the sidecar's side). The webhook must never
 * render a bridge that would then refuse to start: for stdio pods as the webhook renders them
 * (native and regular sidecars, ports pushed aside by the pod's own, ports from the webhook
 * configuration, and every annotation given ""), the bridge's variables load, with the ports the
 * webhook planned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../sidecar/errors.ts';
import { loadBridgeConfig } from '../../sidecar/stdio/config.ts';
import { DEFAULT_WEBHOOK_CONFIG, parseWebhookConfig, type WebhookConfig } from '../../webhook/config.ts';
import { ANNOTATIONS } from '../../webhook/inject/annotations.ts';
import { inject } from '../../webhook/inject/inject.ts';
import { BRIDGE_NAME } from '../../webhook/inject/stdio.ts';
import type { PodLike } from '../../webhook/inject/types.ts';

function pod(annotations: Record<string, string>, extraPorts: number[] = []): PodLike {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'memory', namespace: 'apps', annotations: { [ANNOTATIONS.inject]: 'true', [ANNOTATIONS.transport]: 'stdio', [ANNOTATIONS.apiKeySecret]: 'mcp-keys', ...annotations } },
    spec: {
      containers: [
        { name: 'server', image: 'example/server-memory:1', command: ['node', '/app/dist/index.js'] },
        ...(extraPorts.length > 0 ? [{ name: 'other', image: 'example/other:1', ports: extraPorts.map((containerPort) => ({ containerPort })) }] : []),
      ],
    },
  } as unknown as PodLike;
}

type Rendered = { readonly rejected: string[] } | { readonly env: Record<string, string> };

/** Inject, and take the bridge container's variables exactly as the pod would get them. */
function rendered(p: PodLike, config: WebhookConfig = DEFAULT_WEBHOOK_CONFIG, nativeSidecar = true): Rendered {
  const r = inject(p, 'apps', config, { nativeSidecar });
  if (r.action === 'rejected') return { rejected: r.error.issues.map((i) => i.setting) };
  assert.equal(r.action, 'injected');
  const spec = (r.object as unknown as { spec: { containers: Container[]; initContainers?: Container[] } }).spec;
  const bridge = [...(spec.initContainers ?? []), ...spec.containers].find((c) => c.name === BRIDGE_NAME);
  assert.ok(bridge, 'stdio mode renders the bridge');
  for (const e of bridge.env) assert.equal(typeof e.value, 'string', `${e.name} has a literal value`);
  return { env: Object.fromEntries(bridge.env.map((e) => [e.name, e.value])) };
}
interface Container {
  readonly name: string;
  readonly env: Array<{ name: string; value: string }>;
}

function loads(what: string, env: Record<string, string>): ReturnType<typeof loadBridgeConfig> {
  try {
    return loadBridgeConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) assert.fail(`${what}: injected, but the bridge would exit 2: ${err.message}`);
    throw err;
  }
}

test('the bridge loads the variables the webhook renders, with the planned ports, for native and regular sidecars', () => {
  const cases: Array<[string, PodLike, WebhookConfig, [number, number]]> = [
    ['defaults', pod({}), DEFAULT_WEBHOOK_CONFIG, [9902, 9903]],
    ["the pod's own ports 9902 and 9903", pod({}, [9902, 9903]), DEFAULT_WEBHOOK_CONFIG, [9904, 9905]],
    ['sidecar.stdioListenPort and stdioAdminPort', pod({}), parseWebhookConfig({ sidecar: { stdioListenPort: 19002, stdioAdminPort: 19003 } }), [19002, 19003]],
  ];
  for (const [what, p, config, [listen, admin]] of cases) {
    for (const native of [true, false]) {
      const out = rendered(p, config, native);
      assert.ok('env' in out, `${what}: ${JSON.stringify(out)}`);
      const c = loads(`${what} (${native ? 'native' : 'regular'})`, out.env);
      assert.deepEqual([c.dir, c.listenPort, c.adminPort], ['/var/run/mcp-warden/stdio', listen, admin], what);
    }
  }
});

test('every annotation given "" on a stdio pod: refused at admission naming it, or the bridge starts', () => {
  let started = 0;
  for (const annotation of Object.values(ANNOTATIONS)) {
    if (annotation === ANNOTATIONS.inject) continue;
    const out = rendered(pod({ [annotation]: '' }));
    if ('rejected' in out) {
      assert.ok(out.rejected.some((s) => s.startsWith(annotation)), `${annotation}="": refused, but without naming it: ${out.rejected.join(', ')}`);
      continue;
    }
    loads(`${annotation}=""`, out.env);
    started++;
  }
  assert.ok(started > 0);
});
