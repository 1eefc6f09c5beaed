/**
 * A CA and a serving certificate for the webhook's Service. Keys come from node:crypto (fast, native
 * RSA); node-forge only assembles and signs the X.509 structures, since node:crypto cannot build
 * certificates. RSA because node-forge signs with RSA keys only.
 */
import { X509Certificate, generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface CertPair {
  /** PEM of the serving certificate. */
  readonly cert: string;
  /** PEM of its private key (PKCS#1). */
  readonly key: string;
}

export interface CaAndCert extends CertPair {
  /** PEM of the CA certificate(s) the API server trusts (the caBundle). */
  readonly ca: string;
  /** PEM of the CA's private key, kept so the leaf can be renewed under the same CA. */
  readonly caKey: string;
}

const DAY_MS = 86_400_000;

/** The SANs a Service is reached by (RFC 6125: clients match dNSName SANs, never the CN). */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

function rsaKey(): { pem: string; forgeKey: forge.pki.rsa.PrivateKey; forgePub: forge.pki.rsa.PublicKey } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
  const forgeKey = forge.pki.privateKeyFromPem(pem);
  return { pem, forgeKey, forgePub: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

function serial(): string {
  // RFC 5280 4.1.2.2: positive, at most 20 octets; a leading 0x01 nibble keeps it positive.
  return `01${randomBytes(15).toString('hex')}`;
}

/** A fresh self-signed CA. */
export function generateCa(opts: { commonName: string; validityDays: number; now: Date }): { cert: string; key: string } {
  const k = rsaKey();
  const c = forge.pki.createCertificate();
  c.publicKey = k.forgePub;
  c.serialNumber = serial();
  c.validity.notBefore = new Date(opts.now.getTime() - 5 * 60_000);
  c.validity.notAfter = new Date(opts.now.getTime() + opts.validityDays * DAY_MS);
  const subject = [{ name: 'commonName', value: opts.commonName }];
  c.setSubject(subject);
  c.setIssuer(subject);
  c.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true, pathLenConstraint: 0 },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  c.sign(k.forgeKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(c), key: k.pem };
}

/** A serving certificate for `dnsNames`, signed by the CA. */
export function generateServingCert(opts: { ca: { cert: string; key: string }; dnsNames: readonly string[]; validityDays: number; now: Date }): CertPair {
  const k = rsaKey();
  const caCert = forge.pki.certificateFromPem(opts.ca.cert);
  const caKey = forge.pki.privateKeyFromPem(opts.ca.key);
  const c = forge.pki.createCertificate();
  c.publicKey = k.forgePub;
  c.serialNumber = serial();
  c.validity.notBefore = new Date(opts.now.getTime() - 5 * 60_000);
  c.validity.notAfter = new Date(opts.now.getTime() + opts.validityDays * DAY_MS);
  c.setSubject([{ name: 'commonName', value: opts.dnsNames[0] ?? 'mcp-warden-webhook' }]);
  c.setIssuer(caCert.subject.attributes);
  c.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: opts.dnsNames.map((value) => ({ type: 2, value })) },
  ]);
  c.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(c), key: k.pem };
}

/** CA plus serving certificate in one go. The CA outlives the leaf so renewals keep the caBundle. */
export function generateCaAndCert(opts: { dnsNames: readonly string[]; validityDays: number; now: Date }): CaAndCert {
  const ca = generateCa({ commonName: 'mcp-warden-webhook-ca', validityDays: opts.validityDays * 10, now: opts.now });
  const leaf = generateServingCert({ ca, dnsNames: opts.dnsNames, validityDays: opts.validityDays, now: opts.now });
  return { ...leaf, ca: ca.cert, caKey: ca.key };
}

/** Facts about a PEM certificate, via node:crypto. */
export function describeCert(pem: string): { notAfter: Date; dnsNames: string[] } {
  const x = new X509Certificate(pem);
  const dnsNames = (x.subjectAltName ?? '').split(', ').filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
  return { notAfter: new Date(x.validTo), dnsNames };
}
