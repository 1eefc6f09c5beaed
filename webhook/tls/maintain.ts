/**
 * Keeps self-managed TLS healthy while the webhook runs: a periodic pass re-reads the shared Secret
 * (another replica may have renewed it), renews when due, and restores the caBundle when someone
 * (a `helm upgrade`, a GitOps sync) has overwritten it.
 */
import type { CertPair } from './generate.ts';
import { ensureCaBundle, ensureServingSecret, type SelfManagedOptions, type ServingMaterial } from './self-managed.ts';

export interface MaintainerOptions extends SelfManagedOptions {
  /** Called when the serving pair changes after start. */
  readonly onChange: (pair: CertPair) => void;
  readonly onError?: ((err: Error) => void) | undefined;
  /** Called after each caBundle patch, with the number of webhooks patched. */
  readonly onPatched?: ((count: number) => void) | undefined;
  /** Period of the upkeep pass. */
  readonly intervalMs?: number | undefined;
  /** Retry period while the caBundle could not be patched. */
  readonly retryMs?: number | undefined;
}

export interface TlsMaintainer {
  readonly initial: ServingMaterial;
  /** One upkeep pass (what the timer runs); resolves to the material in use. */
  tick(): Promise<ServingMaterial>;
  /** Whether the last caBundle check succeeded. */
  bundleOk(): boolean;
  stop(): void;
}

/**
 * Bootstrap once (throws if the Secret cannot be had: the webhook cannot serve without TLS), then
 * keep it up. A failed caBundle patch does not stop the start: Helm creates the
 * MutatingWebhookConfiguration after the Deployment, so it may not exist yet; the patch is
 * retried every `retryMs` until it succeeds, then checked every `intervalMs`.
 */
export async function startSelfManagedTls(o: MaintainerOptions): Promise<TlsMaintainer> {
  let current = await ensureServingSecret(o);
  let bundleOk = false;
  let last = Date.now();
  const syncBundle = async () => {
    try {
      const n = await ensureCaBundle(o, current.ca);
      if (n > 0) o.onPatched?.(n);
      bundleOk = true;
    } catch (err) {
      bundleOk = false;
      o.onError?.(err as Error);
    }
  };
  await syncBundle();
  let running: Promise<ServingMaterial> | undefined;
  const tick = (): Promise<ServingMaterial> => {
    // One pass at a time: a slow API server must not stack passes up.
    running ??= (async () => {
      last = Date.now();
      try {
        const next = await ensureServingSecret(o);
        if (next.cert !== current.cert || next.key !== current.key) o.onChange(next);
        current = next;
      } catch (err) {
        o.onError?.(err as Error);
      }
      await syncBundle();
      running = undefined;
      return current;
    })();
    return running;
  };
  const interval = o.intervalMs ?? 5 * 60_000;
  const timer = setInterval(() => {
    if (!bundleOk || Date.now() - last >= interval) void tick();
  }, Math.min(o.retryMs ?? 5_000, interval));
  timer.unref();
  return { initial: current, tick, bundleOk: () => bundleOk, stop: () => clearInterval(timer) };
}
