/**
 * The webhook app on HTTPS on port 0, as the API server reaches it: a certificate from a generated
 * CA for the Service's names. Registers before/after in the calling file.
 */
import { after, before } from 'node:test';
import { buildApp } from '../../../webhook/app.ts';
import { DEFAULT_WEBHOOK_CONFIG } from '../../../webhook/config.ts';
import { generateCaAndCert, serviceDnsNames, type CaAndCert } from '../../../webhook/tls/generate.ts';
import { httpsCall } from './review.ts';

export const SERVICE = 'mcp-warden-webhook';
export const NS = 'mcp-warden';
/** The name the API server verifies the certificate against. */
export const SNI = `${SERVICE}.${NS}.svc`;

export interface HttpsWebhook {
  readonly tls: CaAndCert;
  readonly port: number;
  /** GET a path (the client trusts only the generated CA and checks `servername`). */
  get(path: string, servername?: string): ReturnType<typeof httpsCall>;
  /** POST an AdmissionReview (an object, sent as JSON, or raw text) to /mutate. */
  post(body: unknown): ReturnType<typeof httpsCall>;
}

export function useHttpsWebhook(): HttpsWebhook {
  const state = {} as { tls: CaAndCert; port: number; close: () => Promise<void> };
  before(async () => {
    state.tls = generateCaAndCert({ dnsNames: serviceDnsNames(SERVICE, NS), validityDays: 30, now: new Date() });
    const app = buildApp(DEFAULT_WEBHOOK_CONFIG, { nativeSidecar: true, namespace: NS, https: state.tls });
    await app.listen({ host: '127.0.0.1', port: 0 });
    state.port = (app.server.address() as { port: number }).port;
    state.close = () => app.close();
  });
  after(() => state.close?.());
  return {
    get tls() {
      return state.tls;
    },
    get port() {
      return state.port;
    },
    get: (path, servername = SNI) => httpsCall(state.port, path, { ca: state.tls.ca, servername }),
    post: (body) => httpsCall(state.port, '/mutate', { ca: state.tls.ca, servername: SNI, body: typeof body === 'string' ? body : JSON.stringify(body) }),
  };
}
