/**
 * A recording stand-in for the few Kubernetes API endpoints the webhook calls (no API server can
 * run here). Plain HTTP on loopback; the kubeconfig sets insecure-skip-tls-verify, without which
 * @kubernetes/client-node refuses an http:// server (FACTS.md).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { applyPatch } from 'rfc6902';

export interface Call {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface FakeApiServer {
  readonly calls: Call[];
  readonly secrets: Map<string, Obj>;
  readonly webhookConfigs: Map<string, Obj>;
  version: { major: string; minor: string; gitVersion: string };
  /** When > 1, secret GETs are held until this many are waiting, then all answered: forces a race. */
  secretGetBarrier: number;
  kubeConfig(): KubeConfig;
  close(): Promise<void>;
}

const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason, message, code });

export async function startFakeApiServer(): Promise<FakeApiServer> {
  let rv = 100;
  const waiting: Array<() => void> = [];
  const fake: Omit<FakeApiServer, 'kubeConfig' | 'close'> = {
    calls: [],
    secrets: new Map(),
    webhookConfigs: new Map(),
    version: { major: '1', minor: '31', gitVersion: 'v1.31.2' },
    secretGetBarrier: 0,
  };
  const send = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const body = raw ? JSON.parse(raw) : undefined;
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    fake.calls.push({ method: req.method ?? '', path, contentType: req.headers['content-type'], body });
    let m: RegExpExecArray | null;
    if (req.method === 'GET' && path === '/version') return send(res, 200, { ...fake.version, platform: 'linux/amd64' });
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/.exec(path))) {
      const key = `${m[1]}/${m[2]}`;
      if (req.method === 'GET') {
        if (fake.secretGetBarrier > 1) {
          await new Promise<void>((resolve) => {
            waiting.push(resolve);
            if (waiting.length >= fake.secretGetBarrier) {
              fake.secretGetBarrier = 0;
              for (const w of waiting.splice(0)) w();
            }
          });
        }
        const s = fake.secrets.get(key);
        return s ? send(res, 200, s) : send(res, 404, status(404, 'NotFound', `secrets "${m[2]}" not found`));
      }
      if (req.method === 'PUT') {
        const cur = fake.secrets.get(key);
        if (!cur) return send(res, 404, status(404, 'NotFound', 'not found'));
        if (body.metadata.resourceVersion !== cur.metadata.resourceVersion) return send(res, 409, status(409, 'Conflict', 'the object has been modified'));
        const next = { ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } };
        fake.secrets.set(key, next);
        return send(res, 200, next);
      }
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets$/.exec(path)) && req.method === 'POST') {
      const key = `${m[1]}/${body.metadata.name}`;
      if (fake.secrets.has(key)) return send(res, 409, status(409, 'AlreadyExists', `secrets "${body.metadata.name}" already exists`));
      const created = { ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } };
      fake.secrets.set(key, created);
      return send(res, 201, created);
    }
    if ((m = /^\/apis\/admissionregistration\.k8s\.io\/v1\/mutatingwebhookconfigurations\/([^/]+)$/.exec(path))) {
      const cur = fake.webhookConfigs.get(m[1]!);
      if (!cur) return send(res, 404, status(404, 'NotFound', 'not found'));
      if (req.method === 'GET') return send(res, 200, cur);
      if (req.method === 'PATCH') {
        if (req.headers['content-type'] !== 'application/json-patch+json') return send(res, 415, status(415, 'UnsupportedMediaType', String(req.headers['content-type'])));
        const next = structuredClone(cur);
        const results = applyPatch(next, body);
        if (results.some((r) => r !== null)) return send(res, 422, status(422, 'Invalid', 'patch test failed'));
        fake.webhookConfigs.set(m[1]!, next);
        return send(res, 200, next);
      }
    }
    return send(res, 404, status(404, 'NotFound', `no route ${req.method} ${path}`));
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => send(res, 500, status(500, 'InternalError', err.message)));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return Object.assign(fake, {
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
        users: [{ name: 'webhook', token: 'test-token' }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'webhook' }],
        currentContext: 'fake',
      });
      return kc;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}

/** A MutatingWebhookConfiguration as the chart renders it (caBundle empty until the webhook patches it). */
export function webhookConfiguration(name: string, service: { name: string; namespace: string }, caBundle?: string) {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name, resourceVersion: '1' },
    webhooks: [
      {
        name: 'inject.mcp-warden.dev',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        reinvocationPolicy: 'IfNeeded',
        clientConfig: { service: { ...service, path: '/mutate', port: 443 }, ...(caBundle ? { caBundle } : {}) },
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
      },
    ],
  };
}
