/**
 * The requests in flight, and how a drain ends them. SIGTERM (Sidecar.drain) ends every long-lived
 * stream cleanly at once (its client reconnects to another replica), and gives the rest until the
 * grace deadline to finish on their own.
 */
import type { ServerResponse } from 'node:http';

export interface Inflight {
  add(res: ServerResponse): void;
  delete(res: ServerResponse): void;
  /** `end` ends this response's stream cleanly; called at once if a drain has begun. */
  endOnDrain(res: ServerResponse, end: () => void): void;
  readonly size: number;
  /** End every long-lived stream now; resolves when none is in flight or after `graceMs`. */
  drain(graceMs: number): Promise<void>;
}

export function createInflight(): Inflight {
  const open = new Map<ServerResponse, (() => void) | undefined>();
  let draining = false;
  let idle: (() => void) | undefined;
  return {
    add(res) {
      open.set(res, undefined);
    },
    delete(res) {
      open.delete(res);
      if (open.size === 0) idle?.();
    },
    endOnDrain(res, end) {
      if (!open.has(res)) return;
      if (draining) end();
      else open.set(res, end);
    },
    get size() {
      return open.size;
    },
    async drain(graceMs) {
      draining = true;
      for (const [res, end] of open) {
        if (end === undefined) continue;
        open.set(res, undefined);
        end();
      }
      if (open.size === 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
  };
}
