/**
 * The open 2025-era sessions. Each is one HTTP client: its own SDK Server and Streamable HTTP
 * transport (so its responses, progress and notifications go to it alone), the resource URIs it
 * subscribed to, and when it was last used. The table is bounded (MCP_STDIO_MAX_SESSIONS): at the
 * cap the least recently used idle session is closed for a new one; with none idle the new one is
 * refused. A place is taken when an initialize begins, not when it succeeds, so initializes under
 * way at once can never open more sessions than the cap between them. Sessions idle for MCP_STDIO_SESSION_IDLE_MS are closed (clients that never send DELETE
 * must not hold memory forever).
 */

/** What the table needs from a session; the bridge's session object carries more. */
export interface SessionLike {
  readonly id: string;
  /** Close the transport and the Server (ends the client's streams; later requests get 404). */
  close(): Promise<void>;
}

/** A place made for a session whose initialize is under way. */
export interface Room<S extends SessionLike> {
  /** The session initialized: it takes the place (once). */
  fill(session: S): void;
  /** Initialize failed: the place is free again. Does nothing once filled or released. */
  release(): void;
}

interface Entry<S extends SessionLike> {
  readonly session: S;
  lastUsed: number;
  /** Requests and streams still open on this session. */
  active: number;
}

export interface SessionTable<S extends SessionLike> {
  get(id: string): S | undefined;
  /**
   * A place for one more session, held until it is filled or released. Closes the least recently
   * used idle session when full; undefined when none is idle.
   */
  makeRoom(): Room<S> | undefined;
  /** Forget a session (it closed itself). */
  remove(id: string): void;
  /** A request or stream on `id` began; call the returned function when it ends. */
  enter(id: string): () => void;
  /** Close sessions idle for longer than the limit. */
  sweep(): void;
  /** Close every session (the server process they were for has exited, or the bridge stops). */
  closeAll(): Promise<void>;
  all(): S[];
  readonly size: number;
}

export function createSessionTable<S extends SessionLike>(opts: { readonly max: number; readonly idleMs: number; readonly now: () => number; readonly onClosed: (id: string, why: 'idle' | 'evicted' | 'all') => void }): SessionTable<S> {
  const entries = new Map<string, Entry<S>>();
  /** Places made and not yet filled or released: they count toward the cap like open sessions. */
  let pending = 0;
  const close = (e: Entry<S>, why: 'idle' | 'evicted' | 'all'): Promise<void> => {
    entries.delete(e.session.id);
    opts.onClosed(e.session.id, why);
    return e.session.close().catch(() => undefined);
  };
  return {
    get: (id) => entries.get(id)?.session,
    makeRoom() {
      if (entries.size + pending >= opts.max) {
        let oldest: Entry<S> | undefined;
        for (const e of entries.values()) if (e.active === 0 && (oldest === undefined || e.lastUsed < oldest.lastUsed)) oldest = e;
        if (oldest === undefined) return undefined;
        void close(oldest, 'evicted');
      }
      pending++;
      let held = true;
      const leave = (): boolean => {
        if (!held) return false;
        held = false;
        pending--;
        return true;
      };
      return {
        fill(session) {
          if (leave()) entries.set(session.id, { session, lastUsed: opts.now(), active: 0 });
        },
        release: () => void leave(),
      };
    },
    remove(id) {
      entries.delete(id);
    },
    enter(id) {
      const e = entries.get(id);
      if (!e) return () => undefined;
      e.active++;
      e.lastUsed = opts.now();
      let left = false;
      return () => {
        if (left) return;
        left = true;
        e.active--;
        e.lastUsed = opts.now();
      };
    },
    sweep() {
      const cutoff = opts.now() - opts.idleMs;
      for (const e of [...entries.values()]) if (e.active === 0 && e.lastUsed < cutoff) void close(e, 'idle');
    },
    async closeAll() {
      await Promise.all([...entries.values()].map((e) => close(e, 'all')));
    },
    all: () => [...entries.values()].map((e) => e.session),
    get size() {
      return entries.size;
    },
  };
}
