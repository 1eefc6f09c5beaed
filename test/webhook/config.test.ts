/** The webhook configuration file: defaults, every error at once, sidecar.env checked by the settings table. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../sidecar/errors.ts';
import { DEFAULT_WEBHOOK_CONFIG, parseWebhookConfigText } from '../../webhook/config.ts';

const CONTRACT_EXAMPLE = `
server:
  port: 8443
tls:
  mode: self-managed
  certFile: /etc/mcp-warden/tls/tls.crt
  keyFile: /etc/mcp-warden/tls/tls.key
  secretName: mcp-warden-webhook-tls
  serviceName: mcp-warden-webhook
  webhookConfigName: mcp-warden
  validityDays: 365
  renewBeforeDays: 30
nativeSidecar: auto
excludeNamespaces: [kube-system, kube-public, kube-node-lease]
sidecar:
  image: ghcr.io/mcp-warden/sidecar:0.1.0
  imagePullPolicy: IfNotPresent
  resources: { requests: { cpu: 50m, memory: 80Mi }, limits: { memory: 256Mi } }
  listenPort: 8080
  adminPort: 9901
  env:
    MCP_AUTH_LOG_LEVEL: info
    MCP_AUTH_DLP_MODE: redact
`;

function issues(text: string): string[] {
  try {
    parseWebhookConfigText(text, 'config.yaml');
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.issues.map((i) => `${i.setting}: got ${i.value}; expected ${i.expected}`);
  }
  assert.fail('expected a ConfigError');
}

test("the contract's example file parses, frozen, and equals the defaults plus its env", () => {
  const c = parseWebhookConfigText(CONTRACT_EXAMPLE, 'config.yaml');
  assert.deepEqual({ ...c, sidecar: { ...c.sidecar, env: {} } }, DEFAULT_WEBHOOK_CONFIG);
  assert.deepEqual(c.sidecar.env, { MCP_AUTH_LOG_LEVEL: 'info', MCP_AUTH_DLP_MODE: 'redact' });
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.sidecar.env) && Object.isFrozen(c.excludeNamespaces));
  assert.equal(parseWebhookConfigText('', 'x').tls.mode, 'self-managed');
  assert.equal(parseWebhookConfigText('nativeSidecar: false', 'x').nativeSidecar, 'false', 'an unquoted YAML boolean is accepted');
});

test('every problem is reported at once, naming key, value and expectation', () => {
  const got = issues(`
server: { port: 70000 }
tls: { mode: letsencrypt, validityDays: 10, renewBeforeDays: 20, serviceName: Bad_Name, extra: 1 }
nativeSidecar: sometimes
excludeNamespaces: [kube-system, "NOT OK"]
sidecar:
  imagePullPolicy: Sometimes
  resources: { requests: { cpu: lots } }
  listenPort: 9901
  adminPort: 9901
  env:
    MCP_AUTH_LOG_LEVEL: loud
    MCP_AUTH_UPSTREAM_URL: http://127.0.0.1:1
    MCP_AUTH_KEY: hunter2-secret
    MCP_AUTH_NOT_A_THING: x
typo: 1
`);
  const expected = [
    /^config\.yaml: typo: got 1; expected no such key/,
    /^config\.yaml: tls\.extra: got 1; expected no such key/,
    /^config\.yaml: tls\.renewBeforeDays: got 20; expected fewer days than tls\.validityDays \(10\)/,
    /^config\.yaml: sidecar\.adminPort: got 9901; expected a port other than sidecar\.listenPort/,
    /^config\.yaml: server\.port: got 70000; expected a whole number from 1 to 65535/,
    /^config\.yaml: tls\.mode: got "letsencrypt"; expected one of "self-managed", "provided"/,
    /^config\.yaml: tls\.serviceName: got "Bad_Name"; expected a Service name/,
    /^config\.yaml: nativeSidecar: got "sometimes"/,
    /^config\.yaml: excludeNamespaces: /,
    /^config\.yaml: sidecar\.imagePullPolicy: got "Sometimes"/,
    /^config\.yaml: sidecar\.resources\.requests\.cpu: got "lots"; expected a Kubernetes quantity/,
    /^config\.yaml: sidecar\.env\.MCP_AUTH_LOG_LEVEL: got "loud"; expected one of "fatal"/,
    /^config\.yaml: sidecar\.env\.MCP_AUTH_UPSTREAM_URL: .*the webhook sets this variable/,
    /^config\.yaml: sidecar\.env\.MCP_AUTH_KEY: got "<redacted>"; expected not set here: secret values/,
    /^config\.yaml: sidecar\.env\.MCP_AUTH_NOT_A_THING: .*a variable the sidecar knows/,
  ];
  for (const re of expected) assert.ok(got.some((g) => re.test(g)), `missing ${re}\n${got.join('\n')}`);
  assert.equal(got.length, expected.length, got.join('\n'));
  assert.ok(!got.join('\n').includes('hunter2'), 'secret values are never echoed');
});

test("the stdio bridge's ports: each must differ from the sidecar's and the other's", () => {
  assert.deepEqual(issues('sidecar: { listenPort: 8080, adminPort: 9901, stdioListenPort: 9901, stdioAdminPort: 9901 }'), [
    'config.yaml: sidecar.stdioListenPort: got 9901; expected a port other than sidecar.adminPort (9901)',
    'config.yaml: sidecar.stdioAdminPort: got 9901; expected a port other than sidecar.adminPort (9901)',
  ]);
  assert.deepEqual(issues('sidecar: { stdioListenPort: 7000, stdioAdminPort: 7000 }'), ['config.yaml: sidecar.stdioAdminPort: got 7000; expected a port other than sidecar.stdioListenPort (7000)']);
  assert.deepEqual(issues('sidecar: { stdioListenPort: 0 }'), ['config.yaml: sidecar.stdioListenPort: got 0; expected a whole number from 1 to 65535']);
});

test('unparsable YAML and a non-mapping are one clear problem each', () => {
  assert.match(issues('server: [').join(), /config\.yaml: got unparsable; expected valid YAML/);
  assert.match(issues('- a\n- b').join(), /expected a mapping at the top level/);
});

test('sidecar.runAsUser: the image user by default, a positive id, or null to leave the ids to the platform (OpenShift)', async () => {
  const { inject } = await import('../../webhook/inject/inject.ts');
  const pod = { metadata: { name: 'p', annotations: { 'mcp-warden.dev/inject': 'true' } }, spec: { containers: [{ name: 's', image: 'i', ports: [{ name: 'mcp', containerPort: 3000 }] }] } };
  const sidecarSc = (text: string) => {
    const r = inject(pod, 'apps', parseWebhookConfigText(text, 'config.yaml'), { nativeSidecar: true });
    assert.equal(r.action, 'injected');
    const spec = (r as unknown as { object: { spec: { initContainers: { name: string; securityContext: Record<string, unknown> }[] } } }).object.spec;
    return spec.initContainers.find((c) => c.name === 'mcp-warden-sidecar')!.securityContext;
  };
  assert.equal(parseWebhookConfigText('', 'x').sidecar.runAsUser, 65532);
  assert.deepEqual([sidecarSc('').runAsUser, sidecarSc('').runAsGroup], [65532, 65532]);
  assert.deepEqual([sidecarSc('sidecar: { runAsUser: 1000 }').runAsUser, sidecarSc('sidecar: { runAsUser: 1000 }').runAsGroup], [1000, 1000]);
  const platform = sidecarSc('sidecar: { runAsUser: null }');
  assert.equal('runAsUser' in platform, false);
  assert.equal('runAsGroup' in platform, false);
  assert.equal(platform.runAsNonRoot, true, 'the kubelet still refuses root');
  assert.equal(platform.allowPrivilegeEscalation, false);
  assert.deepEqual(issues('sidecar: { runAsUser: 0 }'), ['config.yaml: sidecar.runAsUser: got 0; expected a whole number from 1 to 2147483647']);
  assert.deepEqual(issues('sidecar: { runAsUser: "65532" }'), ['config.yaml: sidecar.runAsUser: got "65532"; expected a whole number from 1 to 2147483647']);
});

test('sidecar.env: an unknown name gets the same did-you-mean as the sidecar gives', async () => {
  const { unknownVariables } = await import('../../sidecar/unknown-settings.ts');
  const got = issues('sidecar:\n  env:\n    MCP_AUTH_DENY_TOOL: shell\n');
  assert.deepEqual(got, ['config.yaml: sidecar.env.MCP_AUTH_DENY_TOOL: got "shell"; expected a variable the sidecar knows (did you mean MCP_AUTH_DENY_TOOLS?)']);
  assert.match(unknownVariables({ MCP_AUTH_DENY_TOOL: 'shell' })[0]!.expected, /\(did you mean MCP_AUTH_DENY_TOOLS\?\)/);
});

test('sidecar.redisPasswordSecret names a Secret in each pod\'s own namespace; Redis files are never set in sidecar.env', () => {
  const ok = parseWebhookConfigText('sidecar:\n  redisPasswordSecret: mcp-redis\n  env:\n    MCP_AUTH_RATE_LIMIT_REDIS_URL: redis://r.infra:6379\n', 'config.yaml');
  assert.deepEqual(ok.sidecar.redisPasswordSecret, { name: 'mcp-redis', key: 'redis-password' });
  assert.equal(DEFAULT_WEBHOOK_CONFIG.sidecar.redisPasswordSecret, undefined);
  const got = issues(`
sidecar:
  redisPasswordSecret: infra/mcp-redis/password
  env:
    MCP_AUTH_RATE_LIMIT_REDIS_URL: redis://admin:hunter2@r.infra:6379
    MCP_AUTH_RATE_LIMIT_REDIS_PASSWORD_FILE: /etc/passwd
    MCP_AUTH_RATE_LIMIT_REDIS_CA_FILE: /etc/ca.pem
`);
  assert.deepEqual(got, [
    'config.yaml: sidecar.env.MCP_AUTH_RATE_LIMIT_REDIS_URL: got "redis://admin:<redacted>@r.infra:6379"; expected a redis:// or rediss:// URL such as redis://redis.infra.svc:6379/0, with no password (it comes from a file), query or fragment',
    'config.yaml: sidecar.env.MCP_AUTH_RATE_LIMIT_REDIS_PASSWORD_FILE: got "/etc/passwd"; expected not set here: the webhook sets this variable for each pod',
    'config.yaml: sidecar.env.MCP_AUTH_RATE_LIMIT_REDIS_CA_FILE: got "/etc/ca.pem"; expected not set here: injected pods hold no file at a path named here (a rediss:// Redis with a public CA needs none)',
    "config.yaml: sidecar.redisPasswordSecret: got \"infra/mcp-redis/password\"; expected a Secret in the pod's own namespace: name or name/key (no namespace)",
  ]);
});
