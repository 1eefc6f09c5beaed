/**
 * The thin wrapper around @kubernetes/client-node: the only calls the webhook makes, all outside the
 * admission path (TLS bootstrap, caBundle upkeep, version detection at start). Results are plain
 * JSON shapes so the callers can be tested against a recording API server.
 */
import { AdmissionregistrationV1Api, ApiException, CoreV1Api, KubeConfig, PatchStrategy, VersionApi, setHeaderOptions } from '@kubernetes/client-node';

export interface SecretData {
  readonly resourceVersion: string | undefined;
  /** Decoded data (the API carries base64). */
  readonly data: Readonly<Record<string, string>>;
}

export interface WebhookClientConfig {
  readonly name: string;
  readonly caBundle: string | undefined;
  readonly service: { readonly name: string; readonly namespace: string } | undefined;
}

export interface K8s {
  /** `major.minor` of the API server, e.g. { major: 1, minor: 31 }. */
  version(): Promise<{ major: number; minor: number; gitVersion: string }>;
  getSecret(namespace: string, name: string): Promise<SecretData | undefined>;
  /** Create a TLS Secret; 'conflict' when another replica created it first (409 AlreadyExists). */
  createSecret(namespace: string, name: string, data: Record<string, string>): Promise<'created' | 'conflict'>;
  /** Replace a Secret's data, guarded by resourceVersion; 'conflict' when it changed meanwhile. */
  replaceSecret(namespace: string, name: string, resourceVersion: string | undefined, data: Record<string, string>): Promise<'replaced' | 'conflict'>;
  getWebhooks(configName: string): Promise<WebhookClientConfig[]>;
  /** Set caBundle (base64 of PEM) on the webhooks at these indexes, each guarded by a `test` of its name. */
  patchCaBundle(configName: string, targets: ReadonlyArray<{ index: number; name: string }>, caBundle: string): Promise<void>;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
const codeOf = (err: unknown) => (err instanceof ApiException ? err.code : (err as { code?: unknown })?.code);

/** Build the wrapper from a KubeConfig (in-cluster in main.ts; a test server's in tests). */
export function createK8s(kc: KubeConfig): K8s {
  const core = kc.makeApiClient(CoreV1Api);
  const adm = kc.makeApiClient(AdmissionregistrationV1Api);
  const ver = kc.makeApiClient(VersionApi);
  return {
    async version() {
      const v = await ver.getCode();
      // GKE and EKS report minors such as "31+".
      return { major: Number.parseInt(v.major, 10), minor: Number.parseInt(v.minor, 10), gitVersion: v.gitVersion };
    },
    async getSecret(namespace, name) {
      try {
        const s = await core.readNamespacedSecret({ name, namespace });
        return { resourceVersion: s.metadata?.resourceVersion, data: Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, unb64(v)])) };
      } catch (err) {
        if (codeOf(err) === 404) return undefined;
        throw err;
      }
    },
    async createSecret(namespace, name, data) {
      try {
        await core.createNamespacedSecret({ namespace, body: { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, labels: { 'app.kubernetes.io/name': 'mcp-warden', 'app.kubernetes.io/component': 'webhook' } }, type: 'kubernetes.io/tls', data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) } });
        return 'created';
      } catch (err) {
        if (codeOf(err) === 409) return 'conflict';
        throw err;
      }
    },
    async replaceSecret(namespace, name, resourceVersion, data) {
      try {
        await core.replaceNamespacedSecret({ name, namespace, body: { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace, resourceVersion, labels: { 'app.kubernetes.io/name': 'mcp-warden', 'app.kubernetes.io/component': 'webhook' } }, type: 'kubernetes.io/tls', data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) } });
        return 'replaced';
      } catch (err) {
        if (codeOf(err) === 409) return 'conflict';
        throw err;
      }
    },
    async getWebhooks(configName) {
      const mwc = await adm.readMutatingWebhookConfiguration({ name: configName });
      return (mwc.webhooks ?? []).map((w) => ({
        name: w.name,
        caBundle: w.clientConfig.caBundle,
        service: w.clientConfig.service ? { name: w.clientConfig.service.name, namespace: w.clientConfig.service.namespace } : undefined,
      }));
    },
    async patchCaBundle(configName, targets, caBundle) {
      const body = targets.flatMap(({ index, name }) => [
        // RFC 6902 `test`: if the list was reordered since the read, fail rather than patch a stranger.
        { op: 'test', path: `/webhooks/${index}/name`, value: name },
        { op: 'add', path: `/webhooks/${index}/clientConfig/caBundle`, value: caBundle },
      ]);
      await adm.patchMutatingWebhookConfiguration({ name: configName, body }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    },
  };
}

/** A KubeConfig for the pod's service account (main.ts), or the default chain outside a cluster. */
export function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}
