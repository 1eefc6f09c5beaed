/**
 * Cluster facts read once at start, never per request: whether native sidecars (init containers
 * with restartPolicy Always, KEP-753) are available. They are on by default from Kubernetes 1.29.
 */
import type { NativeSidecarMode } from './config.ts';
import type { K8s } from './k8s.ts';

export const NATIVE_SIDECAR_MIN = { major: 1, minor: 29 } as const;

/** Whether a server version supports native sidecars. */
export function supportsNativeSidecar(v: { major: number; minor: number }): boolean {
  if (!Number.isFinite(v.major) || !Number.isFinite(v.minor)) return false;
  return v.major > NATIVE_SIDECAR_MIN.major || (v.major === NATIVE_SIDECAR_MIN.major && v.minor >= NATIVE_SIDECAR_MIN.minor);
}

/**
 * Resolve `nativeSidecar: auto|true|false`. For auto, ask the API server's /version; when that
 * fails, fall back to regular containers, which work on every version.
 */
export async function resolveNativeSidecar(mode: NativeSidecarMode, k8s: Pick<K8s, 'version'> | undefined, onError?: (err: Error) => void): Promise<{ native: boolean; version?: string }> {
  if (mode === 'true') return { native: true };
  if (mode === 'false' || !k8s) return { native: false };
  try {
    const v = await k8s.version();
    return { native: supportsNativeSidecar(v), version: v.gitVersion };
  } catch (err) {
    onError?.(err as Error);
    return { native: false };
  }
}
