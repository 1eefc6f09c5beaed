/**
 * The sidecar refuses a variable that is set but empty (a list reads it as the empty list). The
 * webhook must never render a pod whose sidecar would then refuse to start: for every annotation
 * and every `sidecar.env` name that becomes a sidecar variable, an empty value is either refused at
 * admission, naming the key, or rendered as a value the sidecar accepts with the meaning the
 * webhook gave it. Checked with a ConfigMap too, where admission cannot run the sidecar's own
 * check (the file may hold more settings).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../sidecar/config.ts';
import { ConfigError } from '../../sidecar/errors.ts';
import { SETTINGS } from '../../sidecar/settings.ts';
import { DEFAULT_WEBHOOK_CONFIG, WEBHOOK_OWNED_ENV, parseWebhookConfig, type WebhookConfig } from '../../webhook/config.ts';
import { ANNOTATIONS, ENV_TO_ANNOTATION } from '../../webhook/inject/annotations.ts';
import { inject } from '../../webhook/inject/inject.ts';
import { SIDECAR_NAME } from '../../webhook/inject/render.ts';
import type { PodLike } from '../../webhook/inject/types.ts';

function pod(annotations: Record<string, string>): PodLike {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'mcp', namespace: 'apps', annotations: { [ANNOTATIONS.inject]: 'true', [ANNOTATIONS.apiKeySecret]: 'mcp-keys', ...annotations } },
    spec: { containers: [{ name: 'server', image: 'example/mcp:1', ports: [{ name: 'mcp', containerPort: 3000 }] }] },
  } as unknown as PodLike;
}

/** Inject, then start the sidecar's config parser on exactly the variables the pod would get. */
function renderedConfig(p: PodLike, config: WebhookConfig = DEFAULT_WEBHOOK_CONFIG): { rejected: string[] } | { env: Record<string, string>; load: () => ReturnType<typeof loadConfig> } {
  const r = inject(p, 'apps', config, { nativeSidecar: true });
  if (r.action === 'rejected') return { rejected: r.error.issues.map((i) => i.setting) };
  assert.equal(r.action, 'injected');
  const spec = (r.object as unknown as { spec: { initContainers: Array<{ name: string; env: Array<{ name: string; value: string }> }> } }).spec;
  const sidecar = spec.initContainers.find((c) => c.name === SIDECAR_NAME)!;
  const env = Object.fromEntries(sidecar.env.map((e) => [e.name, e.value]));
  // Mounted files: the key Secret and an empty ConfigMap (it adds nothing).
  return { env, load: () => loadConfig({ env, readFile: () => '' }) };
}

function startsCleanly(what: string, out: ReturnType<typeof renderedConfig>, key: string): void {
  if ('rejected' in out) {
    assert.ok(out.rejected.some((s) => s.startsWith(key)), `${what}: refused, but without naming ${key}: ${out.rejected.join(', ')}`);
    return;
  }
  try {
    out.load();
  } catch (err) {
    if (err instanceof ConfigError) assert.fail(`${what}: injected, but the sidecar would exit 2: ${err.message}`);
    throw err;
  }
}

test('every annotation that sets a sidecar variable, given "": refused at admission or accepted by the sidecar', () => {
  assert.ok(ENV_TO_ANNOTATION.size >= 10);
  for (const [env, annotation] of ENV_TO_ANNOTATION) {
    for (const withConfigMap of [false, true]) {
      const extra: Record<string, string> = withConfigMap ? { [ANNOTATIONS.config]: 'mcp-config' } : {};
      const out = renderedConfig(pod({ [annotation]: '', ...extra }));
      startsCleanly(`${annotation}="" (${withConfigMap ? 'with' : 'without'} a ConfigMap)`, out, annotation);
      if ('env' in out && env in out.env) {
        // Rendered empty: the sidecar reads the same empty list the webhook parsed.
        assert.equal(out.env[env], '');
        const value = (out.load() as unknown as Record<string, unknown>)[Object.entries(SETTINGS).find(([, s]) => s.env === env)![0]];
        assert.deepEqual(value, [], `${annotation}="" renders ${env}="" which the sidecar reads as the empty list`);
      }
    }
  }
});

test('every sidecar.env name the webhook accepts, given "": refused in the webhook configuration or accepted by the sidecar', () => {
  let accepted = 0;
  for (const setting of Object.values(SETTINGS)) {
    if (WEBHOOK_OWNED_ENV.has(setting.env) || setting.secret) continue;
    let config: WebhookConfig;
    try {
      config = parseWebhookConfig({ sidecar: { env: { [setting.env]: '' } } });
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.ok(err.issues.some((i) => i.setting === `config: sidecar.env.${setting.env}`), err.message);
      continue;
    }
    accepted++;
    for (const extra of [{}, { [ANNOTATIONS.config]: 'mcp-config' }] as Record<string, string>[]) startsCleanly(`sidecar.env.${setting.env}=""`, renderedConfig(pod(extra), config), `sidecar.env.${setting.env}`);
  }
  assert.ok(accepted > 0, 'list settings take "" as the empty list');
});
