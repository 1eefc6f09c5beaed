/**
 * Resource subscriptions, counted. Every HTTP client that subscribes to a URI (a 2025-era
 * `resources/subscribe`, or a 2026-07-28 `subscriptions/listen` naming it) holds one reference; the
 * bridge subscribes the one stdio session when the first reference appears and unsubscribes it when
 * the last goes. Counts belong to one server process: a reference taken before the server
 * restarted is void afterwards, and releasing it changes nothing.
 */

export interface SubscriptionUpstream {
  /** The generation of the server process now connected (undefined while none is). */
  readonly generation: number | undefined;
  subscribe(uri: string): Promise<void>;
  unsubscribe(uri: string): Promise<void>;
}

export interface Subscriptions {
  /** Take a reference to `uri`; resolves once the server has accepted the subscription. The returned release is idempotent. */
  acquire(uri: string): Promise<() => void>;
  /** Forget every count (the server process they were for has exited). */
  reset(): void;
  /** URIs with at least one reference (tests, introspection). */
  readonly uris: readonly string[];
}

export function createSubscriptions(upstream: SubscriptionUpstream, onError: (uri: string, err: Error) => void): Subscriptions {
  let counts = new Map<string, number>();
  // The first reference's subscribe call, which later references wait for too.
  let pending = new Map<string, Promise<void>>();
  return {
    async acquire(uri) {
      const mine = counts;
      const generation = upstream.generation;
      const n = mine.get(uri) ?? 0;
      mine.set(uri, n + 1);
      if (n === 0) pending.set(uri, upstream.subscribe(uri));
      try {
        await pending.get(uri);
      } catch (err) {
        const left = (mine.get(uri) ?? 1) - 1;
        if (left > 0) mine.set(uri, left);
        else {
          mine.delete(uri);
          pending.delete(uri);
        }
        throw err;
      }
      let released = false;
      return () => {
        if (released || mine !== counts || generation !== upstream.generation) return;
        released = true;
        const left = (mine.get(uri) ?? 1) - 1;
        if (left > 0) {
          mine.set(uri, left);
          return;
        }
        mine.delete(uri);
        pending.delete(uri);
        upstream.unsubscribe(uri).catch((err: Error) => onError(uri, err));
      };
    },
    reset() {
      counts = new Map();
      pending = new Map();
    },
    get uris() {
      return [...counts.keys()];
    },
  };
}
