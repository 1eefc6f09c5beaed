/**
 * The one stdio session: an SDK Client speaking to the server over the FIFOs. It waits for the MCP
 * container's wrapper, runs the 2025 `initialize` handshake (every stdio server speaks it), and
 * reports the server's identity and capabilities to the HTTP side. When the server exits (its
 * stdout ends), requests in flight fail at once, the HTTP side is told (its sessions belong to that
 * process), and the loop waits for the container to be restarted and connects again.
 *
 * The Client numbers every request itself and mints its own progress tokens, so requests from many
 * HTTP clients never collide on the wire, whatever ids and tokens those clients chose.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, ProtocolErrorCode, SdkError, SdkErrorCode, type Implementation, type JSONRPCRequest, type Notification, type ServerCapabilities, type StandardSchemaV1 } from '@modelcontextprotocol/client';
import type { Logger } from 'pino';
// The version from package.json, inlined by esbuild (as webhook/version.ts does for the webhook).
import pkg from '../../package.json' with { type: 'json' };
import type { BridgeConfig } from './config.ts';
import { BRIDGE_ERR, bridgeError } from './errors.ts';
import { openFifos, type FifoWait } from './fifo.ts';
import { FifoTransport } from './transport.ts';

/** What the server said about itself in `initialize`; the HTTP side serves it to every client. */
export interface UpstreamInfo {
  readonly serverInfo: Implementation;
  readonly capabilities: ServerCapabilities;
  readonly instructions: string | undefined;
  readonly protocolVersion: string;
  /** Counts connections: state from an earlier server process never mixes with a later one. */
  readonly generation: number;
}

export type UpstreamState = 'waiting' | 'initializing' | 'ready' | 'stopped';

export interface UpstreamEvents {
  /** The server is up and initialized. */
  onUp(info: UpstreamInfo): void;
  /**
   * The server exited (or the bridge is stopping): sessions opened against it are void. Called once
   * every request that was waiting on it has failed, so their errors reach the clients first.
   */
  onDown(info: UpstreamInfo): void;
  /** A notification the server sent on its own (list changes, resource updates, log messages). */
  onNotification(notification: Notification): void;
}

export interface Upstream {
  readonly state: UpstreamState;
  /** Why the bridge is waiting, in words, when it is not ready. */
  readonly waitingFor: string | undefined;
  readonly info: UpstreamInfo | undefined;
  /** Relay one request; progress reported by the server reaches `onprogress`. */
  request(method: string, params: Record<string, unknown> | undefined, opts: { readonly signal: AbortSignal; readonly onprogress?: (progress: Record<string, unknown>) => void }): Promise<Record<string, unknown>>;
  /** Resolves once every relayed request waiting now has an answer (or an error). */
  settled(): Promise<void>;
  /** Begin the connect loop (returns at once). */
  start(): void;
  /** Stop: the server's stdin is closed, so it sees EOF. */
  stop(): Promise<void>;
}

/**
 * Results pass through as the server sent them: the Client still checks the JSON-RPC framing and
 * the era's result shape, and the HTTP side's Server encodes them for each client's era; a stricter
 * schema here would drop fields the bridge has no reason to judge.
 */
const PASSTHROUGH: StandardSchemaV1<unknown, Record<string, unknown>> = {
  '~standard': { version: 1, vendor: 'mcp-warden', validate: (value) => ({ value: value as Record<string, unknown> }) },
};

/** How often to look for the wrapper while waiting, and how long to wait after a failed handshake. */
const POLL_MS = 100;
const RETRY_MS = 1000;
/** Time for failed requests' errors to be written before their sessions close (see connectOnce). */
const ERRORS_FLUSH_MS = 50;

const WAITING: Record<FifoWait, (dir: string) => string> = {
  missing: (dir) => `the FIFOs in ${dir} do not exist yet: the MCP container has not started its wrapper (it needs /bin/sh and mkfifo; see its container status)`,
  'no-reader': () => 'the MCP container is not waiting on its stdin FIFO (starting, restarting, or exited)',
  'not-fifo': (dir) => `${dir}/in or ${dir}/out is not a FIFO: refusing to use it`,
};

/**
 * Requests from the server to a client. One process serves many HTTP clients and stdio carries no
 * hint of which of them a request is for, so the bridge cannot pick one to ask: it answers at once
 * with a clear error (the server's tool then fails instead of waiting forever).
 */
function refuseServerRequest(request: JSONRPCRequest): never {
  throw bridgeError(
    ProtocolErrorCode.MethodNotFound,
    BRIDGE_ERR.UNSUPPORTED,
    `${request.method} from a stdio server is not supported: one server process serves many HTTP clients and the bridge cannot tell which one to ask`,
  );
}

export function createUpstream(config: BridgeConfig, deps: { readonly log: Logger; readonly events: UpstreamEvents }): Upstream {
  const { log, events } = deps;
  let state: UpstreamState = 'waiting';
  let waitingFor: string | undefined = 'the bridge has not started';
  let info: UpstreamInfo | undefined;
  let client: Client | undefined;
  /** The Client whose handshake is under way: stop() closes it too, or the drain would wait for the handshake. */
  let connecting: Client | undefined;
  let generation = 0;
  const stopping = new AbortController();
  let loop: Promise<void> | undefined;
  /** Relayed requests still waiting, so onDown can wait for their errors to be sent. */
  const inflight = new Set<Promise<unknown>>();

  /** Stopped is final: a handshake or an exit finishing after stop() never moves the state back. */
  const enter = (next: Exclude<UpstreamState, 'stopped'>): void => {
    if (state !== 'stopped') state = next;
  };
  /** The pause between attempts, cut short by stop(). */
  const pause = (ms: number): Promise<void> => sleep(ms, undefined, { signal: stopping.signal }).catch(() => undefined);

  const setWaiting = (why: string): void => {
    if (why !== waitingFor) log.info({ waitingFor: why }, 'waiting for the stdio server');
    waitingFor = why;
  };

  async function connectOnce(): Promise<void> {
    enter('waiting');
    const pair = await openFifos(config.dir, { signal: stopping.signal, pollMs: POLL_MS, onWait: (why) => setWaiting(WAITING[why](config.dir)) });
    enter('initializing');
    setWaiting('the stdio server is answering initialize');
    const c = new Client({ name: 'mcp-warden-stdio-bridge', version: pkg.version }, { capabilities: {} });
    c.fallbackRequestHandler = async (request) => refuseServerRequest(request);
    c.fallbackNotificationHandler = async (n) => events.onNotification(n);
    c.onerror = (err) => log.debug({ err: err.message }, 'stdio server message problem');
    const closed = new Promise<void>((resolve) => (c.onclose = resolve));
    const transport = new FifoTransport(pair);
    // Stopped while the FIFOs opened: close them at once (the server sees EOF), never start a handshake.
    if (stopping.signal.aborted) {
      await transport.close();
      return;
    }
    connecting = c;
    try {
      // Pinned to the 2025 handshake: every stdio server answers initialize, while a server/discover
      // probe would be a wasted round trip (and an error line) for the servers of today.
      await c.connect(transport, { timeout: config.requestTimeoutMs });
    } catch (err) {
      // stop() closed it mid-handshake: nothing failed.
      if (stopping.signal.aborted) return;
      log.warn({ err: (err as Error).message }, 'the stdio server did not complete initialize');
      await c.close().catch(() => undefined);
      await pause(RETRY_MS);
      return;
    } finally {
      connecting = undefined;
    }
    // The answer came in just as stop() ran: a stopping bridge serves no one, so close it here.
    if (stopping.signal.aborted) {
      await c.close().catch(() => undefined);
      return;
    }
    const caps = c.getServerCapabilities();
    const identity = c.getServerVersion();
    info = Object.freeze({
      serverInfo: identity ?? { name: 'stdio-server', version: '0' },
      capabilities: caps ?? {},
      instructions: c.getInstructions(),
      protocolVersion: c.getNegotiatedProtocolVersion() ?? 'unknown',
      generation: ++generation,
    });
    client = c;
    enter('ready');
    waitingFor = undefined;
    log.info({ server: info.serverInfo, protocolVersion: info.protocolVersion, generation: info.generation }, 'stdio server ready');
    events.onUp(info);
    await closed;
    client = undefined;
    const gone = info;
    if (!stopping.signal.aborted) {
      enter('waiting');
      setWaiting('the stdio server exited; waiting for its container to restart');
      log.warn({ generation: gone.generation }, 'the stdio server exited');
    }
    // The Client failed every waiting request when the transport closed; let each handler write its
    // error to its client (a few turns of the event loop) before the sessions carrying them close.
    await Promise.allSettled([...inflight]);
    await new Promise((r) => setTimeout(r, ERRORS_FLUSH_MS));
    events.onDown(gone);
  }

  return {
    get state() {
      return state;
    },
    get waitingFor() {
      return waitingFor;
    },
    get info() {
      return state === 'ready' ? info : undefined;
    },
    async request(method, params, opts) {
      const c = client;
      if (state !== 'ready' || c === undefined) throw bridgeError(ProtocolErrorCode.InternalError, BRIDGE_ERR.NOT_RUNNING, `the MCP server is not running: ${waitingFor ?? 'it is stopping'}`);
      const pending = c.request({ method, ...(params === undefined ? {} : { params }) }, PASSTHROUGH, {
        signal: opts.signal,
        timeout: config.requestTimeoutMs,
        resetTimeoutOnProgress: true,
        ...(opts.onprogress ? { onprogress: opts.onprogress as (p: unknown) => void } : {}),
      });
      inflight.add(pending);
      try {
        return await pending;
      } catch (err) {
        if (err instanceof SdkError && err.code === SdkErrorCode.ConnectionClosed) {
          throw bridgeError(ProtocolErrorCode.InternalError, BRIDGE_ERR.EXITED, `the MCP server process exited before answering ${method}`);
        }
        if (err instanceof SdkError && err.code === SdkErrorCode.RequestTimeout) {
          throw bridgeError(ProtocolErrorCode.InternalError, BRIDGE_ERR.TIMEOUT, `the MCP server did not answer ${method} within ${config.requestTimeoutMs} ms`);
        }
        throw err;
      } finally {
        inflight.delete(pending);
      }
    },
    async settled() {
      await Promise.allSettled([...inflight]);
    },
    start() {
      if (loop) return;
      loop = (async () => {
        while (!stopping.signal.aborted) {
          try {
            await connectOnce();
          } catch (err) {
            if (stopping.signal.aborted) break;
            log.error({ err: (err as Error).message }, 'stdio connection failed');
            await pause(RETRY_MS);
          }
        }
      })();
    },
    async stop() {
      if (state === 'stopped') return;
      state = 'stopped';
      waitingFor = 'the bridge is stopping';
      stopping.abort(new Error('stopping'));
      await Promise.all([client?.close(), connecting?.close()].map((p) => p?.catch(() => undefined)));
      await loop;
    },
  };
}
