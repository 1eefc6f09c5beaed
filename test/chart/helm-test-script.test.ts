/**
 * Runs the `helm test` pod's script (rendered by the chart) with this Node against a real HTTPS
 * server on loopback: it must pass against a healthy webhook with the right CA and fail with the
 * wrong CA or an unhealthy answer, so `helm test` cannot pass vacuously.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generateCaAndCert } from '../../webhook/tls/generate.ts';
import { runNode } from '../helpers/run-node.ts';
import { NEW_CLUSTER, get, list, obj, render } from './render.ts';

let script: string;
let server: Server;
let port: number;
let status = 200;
let ca: string;
let otherCa: string;

before(async () => {
  const objects = await render(undefined, NEW_CLUSTER);
  const pod = objects.find((o) => o.kind === 'Pod' && o.metadata.annotations?.['helm.sh/hook'] === 'test');
  assert.ok(pod, 'the chart renders a helm test pod');
  const c = obj(list(get(pod, 'spec.containers'), 'containers')[0], 'container');
  const args = list(c.args, 'args').map(String);
  assert.equal(args[0], '-e');
  script = args[1] ?? '';
  const now = new Date();
  const pair = generateCaAndCert({ dnsNames: ['localhost'], validityDays: 2, now });
  ca = pair.ca;
  otherCa = generateCaAndCert({ dnsNames: ['localhost'], validityDays: 2, now }).ca;
  server = createServer({ cert: pair.cert, key: pair.key }, (req, res) => {
    res.statusCode = req.url === '/livez' ? status : 404;
    res.end(String(res.statusCode));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

async function runScript(caPem: string): Promise<{ code: number | null; out: string }> {
  // HOST=localhost: the certificate names it, and it resolves to the loopback server.
  const r = await runNode(['-e', script], { env: { PATH: '/usr/bin:/bin', HOST: 'localhost', SERVICE_PORT: String(port), CA_PEM: caPem }, replaceEnv: true });
  return { code: r.code, out: r.stdout + r.stderr };
}

test('passes against a healthy webhook with the right CA', async () => {
  status = 200;
  const r = await runScript(ca);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /GET \/livez 200/);
});

test('fails when the certificate does not chain to the CA', async () => {
  status = 200;
  const r = await runScript(otherCa);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /failed/);
});

test('fails when /livez is not 200', async () => {
  status = 503;
  const r = await runScript(ca);
  assert.equal(r.code, 1, r.out);
});
