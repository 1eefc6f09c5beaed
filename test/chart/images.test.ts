/**
 * The container images, checked without a Docker engine: the Dockerfiles are read statically
 * against the house rules (dockerfile.ts), and the bundles they ship are run the way the
 * distroless image runs them: `node <bundle>.mjs` from a folder that holds nothing else.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { isolatedBundle } from '../helpers/bundle.ts';
import { runNode, type ProcessResult } from '../helpers/run-node.ts';
import { once } from 'node:events';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { imageViolations, parseDockerfile, splitFlags } from './dockerfile.ts';
import { BRIDGE_COMMAND } from '../../webhook/inject/stdio.ts';
import { CHART, ROOT, get } from './render.ts';

const values = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as unknown;
const IMAGES = [
  { file: 'Dockerfile.sidecar', bundle: 'sidecar', ports: [Number(get(values, 'sidecar.listenPort')), Number(get(values, 'sidecar.adminPort'))], alsoBundles: ['stdio-bridge'] },
  { file: 'Dockerfile.webhook', bundle: 'webhook', ports: [8443], alsoBundles: [] },
];

describe('Dockerfiles', () => {
  for (const img of IMAGES) {
    test(`${img.file}: multi-stage, distroless nonroot, numeric USER, exec ENTRYPOINT, only the bundle, OCI labels`, () => {
      assert.deepEqual(imageViolations(readFileSync(join(ROOT, img.file), 'utf8'), img.bundle, img.ports, img.alsoBundles), []);
    });
  }

  test("Dockerfile.sidecar: the webhook's stdio bridge command runs the image's Node on the bridge bundle it copies", () => {
    const final = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile.sidecar'), 'utf8')).stages.at(-1)!;
    const entrypoint = JSON.parse(final.instructions.filter((i) => i.op === 'ENTRYPOINT').at(-1)!.args) as string[];
    assert.equal(BRIDGE_COMMAND[0], entrypoint[0], 'the same Node binary');
    const copied = final.instructions.filter((i) => i.op === 'COPY').map((i) => splitFlags(i.args).words);
    assert.ok(copied.some((w) => w.slice(0, -1).some((src) => src.endsWith('/dist/stdio-bridge.mjs*')) && BRIDGE_COMMAND[1] === `${w.at(-1)!.replace(/\/$/, '')}/stdio-bridge.mjs`), `${BRIDGE_COMMAND[1]} is copied into the image`);
  });

  test('the checker rejects what the rules forbid', () => {
    const bad = ['FROM node:24', 'COPY . /app', 'RUN npm ci', 'USER node', 'ENTRYPOINT node /app/dist/sidecar.mjs'].join('\n');
    assert.match(imageViolations(bad, 'sidecar', [8080]).join('\n'), /multi-stage/);
    const leaky = [
      'ARG BASE=gcr.io/distroless/nodejs24-debian12:latest',
      'FROM node:22 AS build',
      'RUN npm install',
      'FROM ${BASE}',
      'COPY --from=build /src /app',
      'COPY secrets.env /app/',
      'RUN chmod 444 /app',
      'USER 0',
      'ENTRYPOINT node /app/dist/sidecar.mjs',
    ].join('\n');
    const v = imageViolations(leaky, 'sidecar', [8080]).join('\n');
    for (const expected of ['node:24', 'npm ci', 'nodejs24-debian*:nonroot', 'RUN in the final stage', 'COPY /src', 'COPY from the build context', 'must not be root', 'exec form', 'EXPOSE', 'org.opencontainers.image.title']) {
      assert.ok(v.includes(expected), `no violation mentions ${expected}:\n${v}`);
    }
  });

  test('.dockerignore keeps the context to what the build stage copies', () => {
    const rules = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    assert.equal(rules[0], '*', 'an allow-list: everything is ignored first');
    const allowed = new Set(rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1).replace(/\/$/, '')));
    for (const never of ['node_modules', 'dist', '.git', 'test', 'charts']) assert.ok(!allowed.has(never), `${never} must stay out of the build context`);
    for (const img of IMAGES) {
      const build = parseDockerfile(readFileSync(join(ROOT, img.file), 'utf8')).stages[0];
      for (const ins of build?.instructions.filter((i) => i.op === 'COPY') ?? []) {
        for (const src of splitFlags(ins.args).words.slice(0, -1)) {
          assert.ok(allowed.has(src.replace(/\/$/, '')), `${img.file} line ${ins.line}: COPY ${src} is not in the .dockerignore allow-list`);
        }
      }
    }
  });
});

/** A folder holding only the bundle, as in the runtime image (built first if `npm test` has not). */
function isolate(name: 'sidecar' | 'webhook', dirs: string[]): string {
  const dir = dirname(isolatedBundle(name));
  dirs.push(dir);
  return dir;
}

/** Minimal environment: no NODE_PATH, no NODE_OPTIONS, nothing from the repository. */
const bareEnv = (extra: Record<string, string>): Record<string, string> => ({ PATH: '/usr/bin:/bin', ...extra });

/** Run a bundle as the image does, with only `env`; bounded, as a hang must not outlast the test. */
const run = (cwd: string, file: string, env: Record<string, string>): Promise<ProcessResult> => runNode([file], { cwd, env, replaceEnv: true, killAfterMs: 30_000 });

describe('the sidecar bundle runs alone', () => {
  const dirs: string[] = [];
  let upstream: Server;
  let child: ChildProcess | undefined;

  before(async () => {
    upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end('{"jsonrpc":"2.0","id":1,"result":{}}');
      });
    });
    upstream.listen(0, '127.0.0.1');
    await once(upstream, 'listening');
  });
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    upstream.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('without configuration it exits 2 naming the missing setting', async () => {
    const dir = isolate('sidecar', dirs);
    const r = await run(dir, 'sidecar.mjs', bareEnv({}));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /MCP_AUTH_UPSTREAM_URL/);
  });

  test('serves: /livez, 401 without the key, forwards with it, drains on SIGTERM, writes nothing', async () => {
    const dir = isolate('sidecar', dirs);
    const up = upstream.address() as AddressInfo;
    const env = bareEnv({
      MCP_AUTH_UPSTREAM_URL: `http://127.0.0.1:${up.port}`,
      MCP_AUTH_KEY: 'test-key-0123456789',
      MCP_AUTH_LISTEN_HOST: '127.0.0.1',
      MCP_AUTH_LISTEN_PORT: '0',
      MCP_AUTH_ADMIN_HOST: '127.0.0.1',
      MCP_AUTH_ADMIN_PORT: '0',
    });
    const proc = spawn(process.execPath, ['sidecar.mjs'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // pino writes one JSON object a line; wait (bounded) for the start line with both ports.
    const started = await new Promise<{ port: number; adminPort: number }>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(`no start line within 30 s; stderr: ${stderr}`)), 30_000);
      proc.on('exit', (code) => reject(new Error(`sidecar exited ${code}: ${stderr}`)));
      proc.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        for (const line of buf.split('\n')) {
          if (!line.includes('"port"')) continue;
          try {
            const rec = JSON.parse(line) as { port?: number; adminPort?: number };
            if (typeof rec.port === 'number' && typeof rec.adminPort === 'number') {
              clearTimeout(timer);
              resolve({ port: rec.port, adminPort: rec.adminPort });
            }
          } catch {
            // a partial line; the next chunk completes it
          }
        }
      });
    });
    const livez = await fetch(`http://127.0.0.1:${started.adminPort}/livez`);
    assert.equal(livez.status, 200);
    await livez.body?.cancel();

    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const denied = await fetch(`http://127.0.0.1:${started.port}/mcp`, { method: 'POST', headers, body });
    assert.equal(denied.status, 401);
    // The body the chart README's walk-through shows.
    assert.deepEqual(await denied.json(), { error: 'Unauthorized', message: 'Invalid API key' });

    const allowed = await fetch(`http://127.0.0.1:${started.port}/mcp`, { method: 'POST', headers: { ...headers, 'x-api-key': 'test-key-0123456789' }, body });
    assert.equal(allowed.status, 200);
    assert.deepEqual(await allowed.json(), { jsonrpc: '2.0', id: 1, result: {} });

    proc.kill('SIGTERM');
    const [code] = (await once(proc, 'exit')) as [number | null];
    assert.equal(code, 0, stderr);
    assert.deepEqual(readdirSync(dir), ['sidecar.mjs'], 'the process wrote nothing beside its bundle');
  });
});

/** The final stage's exec-form ENTRYPOINT of a Dockerfile, as an argv. */
function entrypoint(file: string): string[] {
  const { stages } = parseDockerfile(readFileSync(join(ROOT, file), 'utf8'));
  const eps = (stages[stages.length - 1]?.instructions ?? []).filter((i) => i.op === 'ENTRYPOINT');
  return JSON.parse(eps[eps.length - 1]?.args ?? '[]') as string[];
}

/**
 * Runs what `docker run -i IMAGE ARGS...` runs: the image's ENTRYPOINT with ARGS appended, the
 * image's node and /app/dist mapped to this machine's Node 24 and a folder holding only the bundle.
 */
function runImage(file: string, dir: string, args: readonly string[], stdin: string): Promise<ProcessResult> {
  const [node, ...rest] = entrypoint(file);
  assert.equal(node, '/nodejs/bin/node');
  const argv = rest.map((a) => a.replace(/^\/app\/dist\//, `${dir}/`));
  return runNode([...argv, ...args], { cwd: dir, env: bareEnv({}), replaceEnv: true, stdin, killAfterMs: 30_000 });
}

describe('the webhook bundle runs alone', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('the image with arguments is the command line: inject -f - reads stdin and prints the injected objects', async () => {
    const dir = isolate('webhook', dirs);
    const input = readFileSync(join(ROOT, 'test/webhook/golden/deployment.in.yaml'), 'utf8');
    const r = await runImage('Dockerfile.webhook', dir, ['inject', '-f', '-'], input);
    assert.equal(r.code, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; spec?: { template?: { spec?: { initContainers?: { name: string }[] } } } });
    assert.deepEqual(docs.map((d) => d.kind), ['Deployment', 'Service']);
    assert.ok(docs[0]?.spec?.template?.spec?.initContainers?.some((c) => c.name === 'mcp-warden-sidecar'), 'the sidecar was injected');
    assert.match(r.stderr, /warning: .*targetPort is the number 3000/);
    assert.deepEqual(readdirSync(dir), ['webhook.mjs'], 'the command wrote nothing beside its bundle');
    const usage = await runImage('Dockerfile.webhook', dir, ['--help'], '');
    assert.equal(usage.code, 0);
    assert.match(usage.stdout, /^usage: mcp-warden inject -f FILE\|-/);
  });

  test('the image without arguments is the webhook server (it wants its config file)', async () => {
    const dir = isolate('webhook', dirs);
    const r = await runImage('Dockerfile.webhook', dir, [], '');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot read \/etc\/mcp-warden\/config\.yaml \(MCP_WARDEN_WEBHOOK_CONFIG\)/);
    assert.match(r.stderr, /for the command line, give arguments: inject -f FILE/);
  });

  test('a bad config file exits 2 naming the key', async () => {
    const dir = isolate('webhook', dirs);
    writeFileSync(join(dir, 'config.yaml'), 'server:\n  port: 8443\nbogusKey: 1\n');
    const r = await run(dir, 'webhook.mjs', bareEnv({ MCP_WARDEN_WEBHOOK_CONFIG: join(dir, 'config.yaml') }));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /bogusKey/);
  });
});
