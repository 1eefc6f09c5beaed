/**
 * Builds the sidecar container and its volumes. Image, resources, security context and volume
 * sources come from cluster configuration and constants only, never from annotations: annotations
 * reach this module only as already-validated sidecar variables and Secret/ConfigMap names.
 */
import type { WebhookConfig } from '../config.ts';
import type { ObjectKeyRef } from './annotations.ts';
import type { Container, Volume, VolumeMount } from './types.ts';

/** The injected container's name (contract with the chart and the docs). */
export const SIDECAR_NAME = 'mcp-warden-sidecar';

export const APIKEY_VOLUME = 'mcp-warden-apikey';
export const APIKEY_DIR = '/var/run/mcp-warden/apikey';
/** File name of the API keys inside APIKEY_DIR. */
export const APIKEY_FILE = 'keys';
export const REDIS_VOLUME = 'mcp-warden-redis';
export const REDIS_DIR = '/var/run/mcp-warden/redis';
/** File name of the Redis password inside REDIS_DIR. */
export const REDIS_PASSWORD_FILE = 'password';
export const CONFIG_VOLUME = 'mcp-warden-config';
export const CONFIG_DIR = '/etc/mcp-warden/sidecar';
export const CONFIG_FILE = 'config.yaml';

/**
 * Restricted Pod Security Standard for the sidecar (https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted):
 * non-root, no privilege escalation, every capability dropped, seccomp RuntimeDefault; plus a
 * read-only root filesystem (the sidecar writes nothing to disk). `runAsUser` null leaves the ids to
 * the platform (OpenShift assigns them); runAsNonRoot stays, so the kubelet still refuses root.
 */
export function sidecarSecurityContext(runAsUser: number | null): Record<string, unknown> {
  return {
    runAsNonRoot: true,
    ...(runAsUser === null ? {} : { runAsUser, runAsGroup: runAsUser }),
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export interface SidecarSpec {
  readonly native: boolean;
  readonly env: ReadonlyArray<readonly [string, string]>;
  readonly publicPortName: string;
  readonly adminPortName: string;
  readonly listenPort: number;
  readonly adminPort: number;
  readonly apiKeySecret: ObjectKeyRef | undefined;
  readonly configMap: ObjectKeyRef | undefined;
  readonly redisSecret: ObjectKeyRef | undefined;
}

/** Volumes the sidecar needs: Secrets and ConfigMaps are mounted as directories (no subPath) so updates reach the files without a restart. */
export function renderVolumes(s: Pick<SidecarSpec, 'apiKeySecret' | 'configMap' | 'redisSecret'>): Volume[] {
  const out: Volume[] = [];
  if (s.apiKeySecret) out.push({ name: APIKEY_VOLUME, secret: { secretName: s.apiKeySecret.name, items: [{ key: s.apiKeySecret.key, path: APIKEY_FILE }] } });
  if (s.redisSecret) out.push({ name: REDIS_VOLUME, secret: { secretName: s.redisSecret.name, items: [{ key: s.redisSecret.key, path: REDIS_PASSWORD_FILE }] } });
  if (s.configMap) out.push({ name: CONFIG_VOLUME, configMap: { name: s.configMap.name, items: [{ key: s.configMap.key, path: CONFIG_FILE }] } });
  return out;
}

/** An HTTP probe on an injected container's admin port. */
export function adminProbe(path: string, port: number, periodSeconds: number, failureThreshold: number): Record<string, unknown> {
  return { httpGet: { path, port, scheme: 'HTTP' }, periodSeconds, timeoutSeconds: 1, successThreshold: 1, failureThreshold };
}

/** The sidecar container, as a native sidecar (init container, restartPolicy Always) or a regular one. */
export function renderSidecar(config: WebhookConfig, s: SidecarSpec): Container {
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => adminProbe(path, s.adminPort, periodSeconds, failureThreshold);
  const mounts: VolumeMount[] = [];
  if (s.apiKeySecret) mounts.push({ name: APIKEY_VOLUME, mountPath: APIKEY_DIR, readOnly: true });
  if (s.redisSecret) mounts.push({ name: REDIS_VOLUME, mountPath: REDIS_DIR, readOnly: true });
  if (s.configMap) mounts.push({ name: CONFIG_VOLUME, mountPath: CONFIG_DIR, readOnly: true });
  const c: Container = {
    name: SIDECAR_NAME,
    image: config.sidecar.image,
    imagePullPolicy: config.sidecar.imagePullPolicy,
    ports: [
      { name: s.publicPortName, containerPort: s.listenPort, protocol: 'TCP' },
      { name: s.adminPortName, containerPort: s.adminPort, protocol: 'TCP' },
    ],
    env: s.env.map(([name, value]) => ({ name, value })),
    resources: structuredClone(config.sidecar.resources) as Record<string, unknown>,
    securityContext: sidecarSecurityContext(config.sidecar.runAsUser),
    // Startup on /livez (not /readyz): a native sidecar must start before the app exists, and
    // readiness may depend on the upstream.
    startupProbe: probe('/livez', 1, 30),
    livenessProbe: probe('/livez', 10, 3),
    readinessProbe: probe('/readyz', 5, 2),
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  if (mounts.length > 0) c.volumeMounts = mounts;
  if (s.native) c.restartPolicy = 'Always';
  return c;
}
