/**
 * `provided` TLS: the webhook serves a certificate from files and picks up a new one without a
 * restart, including the symlink swap Kubernetes uses for Secret volumes.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { buildApp } from '../../webhook/app.ts';
import { DEFAULT_WEBHOOK_CONFIG } from '../../webhook/config.ts';
import { generateCaAndCert, serviceDnsNames } from '../../webhook/tls/generate.ts';
import { createCertReloader } from '../../webhook/tls/reload.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcp-warden-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Lay out files as the kubelet does: <dir>/..data -> ..<timestamp>/, tls.crt -> ..data/tls.crt. */
function writeSecretVolume(version: string, pair: { cert: string; key: string }): void {
  const real = join(dir, `..${version}`);
  mkdirSync(real);
  writeFileSync(join(real, 'tls.crt'), pair.cert);
  writeFileSync(join(real, 'tls.key'), pair.key);
  symlinkSync(`..${version}`, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
}

function peerCert(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca, servername: 'mcp-warden-webhook.mcp-warden.svc' }, () => {
      resolve(s.getPeerX509Certificate()!.serialNumber);
      s.end();
    });
    s.on('error', reject);
  });
}

test('a swapped Secret volume is served on the next connection, without a restart; a broken pair is not', async () => {
  const names = serviceDnsNames('mcp-warden-webhook', 'mcp-warden');
  const one = generateCaAndCert({ dnsNames: names, validityDays: 30, now: new Date() });
  const two = generateCaAndCert({ dnsNames: names, validityDays: 30, now: new Date() });
  writeSecretVolume('v1', one);
  symlinkSync('..data/tls.crt', join(dir, 'tls.crt'));
  symlinkSync('..data/tls.key', join(dir, 'tls.key'));

  const errors: Error[] = [];
  let apply: (p: { cert: string; key: string }) => void = () => {};
  const reloader = createCertReloader({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), onChange: (p) => apply(p), onError: (e) => errors.push(e), intervalMs: 60_000 });
  const app = buildApp(DEFAULT_WEBHOOK_CONFIG, { nativeSidecar: true, https: reloader.current() });
  apply = (p) => (app.server as unknown as { setSecureContext(o: object): void }).setSecureContext(p);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  try {
    const serialOne = await peerCert(port, one.ca);
    writeSecretVolume('v2', two);
    // The watcher usually fires first; check() is the periodic fallback, called here so the test does not wait on a timer.
    reloader.check();
    const serialTwo = await peerCert(port, two.ca);
    assert.notEqual(serialTwo, serialOne);
    await assert.rejects(peerCert(port, one.ca), 'the old CA no longer verifies the served cert');

    // A key that does not match the cert (a half-written update) is refused; the good pair stays.
    writeSecretVolume('v3', { cert: one.cert, key: two.key });
    assert.equal(reloader.check(), false);
    assert.ok(errors.length > 0);
    assert.equal(await peerCert(port, two.ca), serialTwo);
  } finally {
    reloader.close();
    await app.close();
  }
});
