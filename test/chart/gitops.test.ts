/**
 * The GitOps pipeline of the README, run for real as far as it runs here: the chart rendered
 * offline with helm, an MCP server's own chart rendered by helm and piped through the bundled CLI
 * (dist/cli.mjs alone in a folder, configured from the chart's rendering), the result validated
 * against the Kubernetes schemas and the restricted profile, and committed with git. What cannot
 * run here: a cluster applying the commit (Argo CD, Flux) and `docker run` (no engine).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { isolatedBundle } from '../helpers/bundle.ts';
import { parseWebhookConfigText } from '../../webhook/config.ts';
import { webhookConfigText } from '../../webhook/cli.ts';
import { inject } from '../../webhook/inject/inject.ts';
import { schemaErrors } from './k8s-schema.ts';
import { restrictedViolations } from './restricted-pss.ts';
import { CHART, HELM, get, helm, helmEnv, list, obj, parseManifests } from './render.ts';
import type { K8sObject } from './render.ts';

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'warden-gitops-'));
const cliDir = dirname(isolatedBundle('cli'));
after(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(cliDir, { recursive: true, force: true });
});

const APP_CHART = join(work, 'everything-mcp');
const REPO = join(work, 'gitops');
const MW = join(REPO, 'deploy', 'mcp-warden.yaml');
const OUT = join(REPO, 'deploy', 'everything-mcp.yaml');

/** An MCP server's own chart, as a team would have it: annotated, restricted, Service by port name. */
function writeAppChart(): void {
  mkdirSync(join(APP_CHART, 'templates'), { recursive: true });
  writeFileSync(join(APP_CHART, 'Chart.yaml'), 'apiVersion: v2\nname: everything-mcp\nversion: 1.0.0\n');
  writeFileSync(join(APP_CHART, 'templates', 'deployment.yaml'), `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
  namespace: {{ .Release.Namespace }}
spec:
  replicas: 1
  selector:
    matchLabels: { app: {{ .Release.Name }} }
  template:
    metadata:
      labels: { app: {{ .Release.Name }} }
      annotations:
        mcp-warden.dev/inject: "true"
        mcp-warden.dev/apikey-secret: {{ .Release.Name }}-keys
        mcp-warden.dev/rate-limit: 120/min
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: mcp
          image: node:24-slim
          command: [npx, -y, "@modelcontextprotocol/server-everything@2026.8.31", streamableHttp]
          env:
            - { name: PORT, value: "3001" }
          ports:
            - { name: http, containerPort: 3001 }
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
`);
  writeFileSync(join(APP_CHART, 'templates', 'service.yaml'), `apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
  namespace: {{ .Release.Namespace }}
spec:
  selector: { app: {{ .Release.Name }} }
  ports:
    - { name: http, port: 80, targetPort: http }
`);
}

/** Runs a shell pipeline the way the README shows it, with helm and Node 24 on PATH. */
async function sh(script: string, cwd: string): Promise<{ stdout: string; stderr: string }> {
  const env = { ...helmEnv(), PATH: `${dirname(HELM)}:${dirname(process.execPath)}:/usr/bin:/bin` };
  return run('sh', ['-ec', script], { cwd, env, maxBuffer: 16 * 1024 * 1024 });
}

const git = (...args: string[]) => run('git', ['-c', 'user.name=GitOps Test', '-c', 'user.email=gitops@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd: REPO });

let objects: K8sObject[] = [];
let pipelineStderr = '';
const kind = (k: string): K8sObject => {
  const found = objects.filter((o) => o.kind === k);
  assert.equal(found.length, 1, `one ${k}`);
  return found[0]!;
};

before(async () => {
  writeAppChart();
  mkdirSync(join(REPO, 'deploy'), { recursive: true });
  await git('init', '-q');
  // 1. The cluster's mcp-warden, rendered offline from the values it is installed with: a mirror
  //    for the sidecar image and a cluster default (DLP blocks) that injection must pick up.
  await sh(`helm template mcp-warden ${CHART} -n mcp-warden --api-versions admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy \
    --set sidecar.image.registry=registry.example.com/mirror --set sidecar.env.MCP_AUTH_DLP_MODE=block > deploy/mcp-warden.yaml`, REPO);
  // 2. The MCP server: render, inject with that configuration, write the file to commit.
  const r = await sh(`helm template everything-mcp ${APP_CHART} -n mcp-servers \
    | node ${join(cliDir, 'cli.mjs')} inject -f - --namespace mcp-servers --config deploy/mcp-warden.yaml > deploy/everything-mcp.yaml`, REPO);
  pipelineStderr = r.stderr;
  objects = parseManifests(readFileSync(OUT, 'utf8'));
});

describe('GitOps: helm template | mcp-warden inject | git commit', () => {
  test('the injected manifests validate: Kubernetes schemas, restricted profile, the sidecar configured by the chart', async () => {
    assert.deepEqual(objects.map((o) => o.kind).sort(), ['Deployment', 'Service']);
    assert.deepEqual(objects.map(schemaErrors).filter(Boolean), []);
    const spec = obj(get(kind('Deployment'), 'spec.template.spec'), 'pod spec');
    assert.deepEqual(restrictedViolations(spec), []);
    const sidecar = obj(list(spec.initContainers, 'initContainers').find((c) => get(c, 'name') === 'mcp-warden-sidecar'), 'sidecar');
    assert.equal(sidecar.restartPolicy, 'Always');
    assert.equal(sidecar.image, 'registry.example.com/mirror/mcp-warden/sidecar:0.1.0', 'the image the chart configures');
    const env = Object.fromEntries(list(sidecar.env, 'env').map((e) => [get(e, 'name'), get(e, 'value')]));
    assert.equal(env.MCP_AUTH_DLP_MODE, 'block', "the chart's sidecar.env default");
    assert.equal(env.MCP_AUTH_RATE_LIMIT_REQUESTS_PER_MINUTE, '120', 'the annotation wins over the chart default');
    assert.equal(env.MCP_AUTH_UPSTREAM_URL, 'http://127.0.0.1:3001');
    // The Service passes through as helm rendered it; it reaches the sidecar by the port name.
    const rendered = await helm(['template', 'everything-mcp', APP_CHART, '-n', 'mcp-servers', '--show-only', 'templates/service.yaml']);
    assert.deepEqual(kind('Service'), parseManifests(rendered.stdout)[0]);
    // The one note is the reminder every injection gives about Services that target the number.
    assert.deepEqual(pipelineStderr.trim().split('\n').map((l) => l.replace(/:.*/, '')), ['Deployment/everything-mcp']);
    assert.match(pipelineStderr, /warning: .*target the name "http"/);
  });

  test('the webhook in the cluster leaves the committed pods alone, and injecting again changes nothing', async () => {
    const config = parseWebhookConfigText(webhookConfigText(readFileSync(MW, 'utf8'), MW), MW);
    const d = kind('Deployment');
    const pod = { metadata: get(d, 'spec.template.metadata'), spec: get(d, 'spec.template.spec') } as Parameters<typeof inject>[0];
    const r = inject(pod, 'mcp-servers', config, { nativeSidecar: true });
    assert.equal(r.action, 'injected');
    assert.deepEqual(r.action === 'injected' ? r.patch : undefined, [], 'an empty patch at admission');
    const again = await sh(`node ${join(cliDir, 'cli.mjs')} inject -f deploy/everything-mcp.yaml --namespace mcp-servers --config deploy/mcp-warden.yaml`, REPO);
    assert.equal(again.stdout, readFileSync(OUT, 'utf8'));
  });

  test('the commit holds exactly the injected manifests', async () => {
    await git('add', 'deploy');
    await git('commit', '-q', '-m', 'everything-mcp: render and inject');
    const committed = await git('show', 'HEAD:deploy/everything-mcp.yaml');
    assert.equal(committed.stdout, readFileSync(OUT, 'utf8'));
    assert.equal((await git('status', '--porcelain')).stdout, '');
  });

  test('--config refuses manifests without the chart ConfigMap, naming the file', async () => {
    await assert.rejects(sh(`helm template everything-mcp ${APP_CHART} > app-only.yaml && helm template everything-mcp ${APP_CHART} | node ${join(cliDir, 'cli.mjs')} inject -f - --config app-only.yaml`, work), (err: { code?: number; stderr?: string }) => {
      assert.equal(err.code, 2);
      assert.match(String(err.stderr), /app-only\.yaml: got 2 Kubernetes objects, 0 of them the chart's ConfigMap; expected a webhook config\.yaml, or manifests holding exactly one mcp-warden ConfigMap/);
      return true;
    });
  });
});
