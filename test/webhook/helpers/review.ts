/** AdmissionReview requests shaped exactly as the API server sends them, and an HTTPS client for tests. */
import { request } from 'node:https';
import { randomUUID } from 'node:crypto';

export function admissionReview(pod: unknown, opts: { namespace?: string; operation?: string; kind?: { group: string; version: string; kind: string }; apiVersion?: string } = {}) {
  const kind = opts.kind ?? { group: '', version: 'v1', kind: 'Pod' };
  return {
    apiVersion: opts.apiVersion ?? 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: randomUUID(),
      kind,
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: kind,
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      name: (pod as { metadata?: { name?: string } })?.metadata?.name ?? '',
      namespace: opts.namespace ?? 'apps',
      operation: opts.operation ?? 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', uid: randomUUID(), groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'] },
      object: pod,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}

export interface HttpsResult {
  readonly status: number;
  readonly body: string;
  readonly json: () => Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** POST or GET over HTTPS, trusting only `ca` and checking the name `servername`, as the API server does. */
export function httpsCall(port: number, path: string, opts: { ca: string; servername: string; method?: string; body?: string | Buffer; contentType?: string }): Promise<HttpsResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'), ca: opts.ca, servername: opts.servername, headers: opts.body === undefined ? {} : { 'content-type': opts.contentType ?? 'application/json', 'content-length': Buffer.byteLength(opts.body) }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body) });
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}
