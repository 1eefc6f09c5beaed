/**
 * `self-managed` TLS mode: the webhook makes its own CA and serving certificate, keeps them in a
 * Secret that every replica shares, and keeps the MutatingWebhookConfiguration's caBundle pointing
 * at that CA. Replicas race safely: create-if-absent, and the loser of a 409 adopts the winner's
 * Secret. Renewal keeps the CA (so the caBundle stays valid) until the CA itself nears its end;
 * then the new CA is bundled with the old one so both certificates verify during the rollover.
 */
import { createSecureContext } from 'node:tls';
import type { K8s, SecretData } from '../k8s.ts';
import { describeCert, generateCa, generateCaAndCert, generateServingCert, serviceDnsNames, type CertPair } from './generate.ts';

const DAY_MS = 86_400_000;

export interface SelfManagedOptions {
  readonly k8s: K8s;
  readonly namespace: string;
  readonly secretName: string;
  readonly serviceName: string;
  readonly webhookConfigName: string;
  readonly validityDays: number;
  readonly renewBeforeDays: number;
  readonly now?: (() => Date) | undefined;
}

export interface ServingMaterial extends CertPair {
  /** The PEM bundle the API server must trust. */
  readonly ca: string;
  /** What happened: made and stored, adopted after losing a race, found, or renewed. */
  readonly source: 'created' | 'adopted' | 'existing' | 'renewed';
}

function material(s: SecretData, source: ServingMaterial['source']): ServingMaterial {
  return { cert: s.data['tls.crt']!, key: s.data['tls.key']!, ca: s.data['ca.crt']!, source };
}

/** Whether a Secret holds a matching pair valid for our names at `now`. */
export function usable(s: SecretData | undefined, dnsNames: readonly string[], now: Date): s is SecretData {
  if (!s || !s.data['tls.crt'] || !s.data['tls.key'] || !s.data['ca.crt']) return false;
  try {
    createSecureContext({ cert: s.data['tls.crt'], key: s.data['tls.key'] });
    const d = describeCert(s.data['tls.crt']);
    return d.notAfter.getTime() > now.getTime() && dnsNames.every((n) => d.dnsNames.includes(n));
  } catch {
    return false;
  }
}

function dueForRenewal(s: SecretData, renewBeforeDays: number, now: Date): boolean {
  return describeCert(s.data['tls.crt']!).notAfter.getTime() - now.getTime() < renewBeforeDays * DAY_MS;
}

/** Make new material, reusing the stored CA when it will outlive the new leaf. */
function renewData(old: SecretData | undefined, o: SelfManagedOptions, dnsNames: string[], now: Date): Record<string, string> {
  const caCert = old?.data['ca.crt'];
  const caKey = old?.data['ca.key'];
  if (caCert && caKey) {
    try {
      const first = caCert.split(/(?<=-----END CERTIFICATE-----)/)[0]!.trim();
      const caEnd = describeCert(first).notAfter.getTime();
      if (caEnd - now.getTime() > (o.validityDays + o.renewBeforeDays) * DAY_MS) {
        const leaf = generateServingCert({ ca: { cert: first, key: caKey }, dnsNames, validityDays: o.validityDays, now });
        return { 'tls.crt': leaf.cert, 'tls.key': leaf.key, 'ca.crt': caCert, 'ca.key': caKey };
      }
      // A new CA; bundle the old one while it is still valid so the serving cert in use keeps verifying.
      const ca = generateCa({ commonName: 'mcp-warden-webhook-ca', validityDays: o.validityDays * 10, now });
      const leaf = generateServingCert({ ca, dnsNames, validityDays: o.validityDays, now });
      const bundle = caEnd > now.getTime() ? `${ca.cert.trim()}\n${first}\n` : ca.cert;
      return { 'tls.crt': leaf.cert, 'tls.key': leaf.key, 'ca.crt': bundle, 'ca.key': ca.key };
    } catch {
      // Fall through to a fresh CA.
    }
  }
  const fresh = generateCaAndCert({ dnsNames, validityDays: o.validityDays, now });
  return { 'tls.crt': fresh.cert, 'tls.key': fresh.key, 'ca.crt': fresh.ca, 'ca.key': fresh.caKey };
}

/**
 * Make sure the shared Secret holds valid serving material and return it. Safe to run from every
 * replica at once: creation is create-if-absent and replacement is guarded by resourceVersion.
 */
export async function ensureServingSecret(o: SelfManagedOptions): Promise<ServingMaterial> {
  const now = (o.now ?? (() => new Date()))();
  const dnsNames = serviceDnsNames(o.serviceName, o.namespace);
  const current = await o.k8s.getSecret(o.namespace, o.secretName);
  if (current === undefined) {
    const data = renewData(undefined, o, dnsNames, now);
    if ((await o.k8s.createSecret(o.namespace, o.secretName, data)) === 'created') return { cert: data['tls.crt']!, key: data['tls.key']!, ca: data['ca.crt']!, source: 'created' };
    const winner = await o.k8s.getSecret(o.namespace, o.secretName);
    if (usable(winner, dnsNames, now)) return material(winner, 'adopted');
    throw new Error(`Secret ${o.namespace}/${o.secretName} was created by another writer but holds no usable certificate`);
  }
  if (usable(current, dnsNames, now) && !dueForRenewal(current, o.renewBeforeDays, now)) return material(current, 'existing');
  const data = renewData(current, o, dnsNames, now);
  if ((await o.k8s.replaceSecret(o.namespace, o.secretName, current.resourceVersion, data)) === 'replaced') return { cert: data['tls.crt']!, key: data['tls.key']!, ca: data['ca.crt']!, source: 'renewed' };
  // Another replica renewed first: use theirs.
  const winner = await o.k8s.getSecret(o.namespace, o.secretName);
  if (usable(winner, dnsNames, now)) return material(winner, 'adopted');
  throw new Error(`Secret ${o.namespace}/${o.secretName} changed during renewal and holds no usable certificate`);
}

/**
 * Patch the caBundle of our webhooks (those whose Service is ours; all of them if none names a
 * Service) when it differs from `caPem`. Returns how many webhooks were patched.
 */
export async function ensureCaBundle(o: SelfManagedOptions, caPem: string): Promise<number> {
  const want = Buffer.from(caPem, 'utf8').toString('base64');
  const hooks = (await o.k8s.getWebhooks(o.webhookConfigName)).map((h, index) => ({ ...h, index }));
  const ours = hooks.filter((h) => h.service?.name === o.serviceName && h.service.namespace === o.namespace);
  const targets = (ours.length > 0 ? ours : hooks).filter((h) => h.caBundle !== want);
  if (targets.length > 0) await o.k8s.patchCaBundle(o.webhookConfigName, targets.map((h) => ({ index: h.index, name: h.name })), want);
  return targets.length;
}
