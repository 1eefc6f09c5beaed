/**
 * createBridge(config, deps): Streamable HTTP on loopback in front of the one stdio session. It
 * never reads the environment and listens only when asked, like createSidecar.
 *
 * Each request is routed by era with the SDK's own classifier (`isLegacyRequest`):
 * - 2025 era: `initialize` opens a session (its own Server and transport); later requests carry
 *   `Mcp-Session-Id`. Sessions belong to one server process and are closed when it exits, so
 *   clients get 404 and initialize again, as the transport spec says.
 * - 2026-07-28: stateless; the SDK's handler builds a Server per request, and serves
 *   `subscriptions/listen` streams from an event bus the bridge publishes the server's change
 *   notifications to.
 * Notifications the server sends on its own reach every client that asked for them: list changes
 * go to all, resource updates to the subscribers of that URI, log messages to 2025-era sessions
 * (which filter them by their own `logging/setLevel`).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { NodeStreamableHTTPServerTransport, toNodeHandler, toWebRequest } from '@modelcontextprotocol/node';
import { createMcpHandler, isInitializeRequest, isLegacyRequest, ProtocolErrorCode, type McpHttpHandler, type Notification, type Server } from '@modelcontextprotocol/server';
import type { Logger } from 'pino';
import { createBridgeAdmin } from './admin.ts';
import type { BridgeConfig } from './config.ts';
import { createDownstreamServer } from './downstream.ts';
import { BRIDGE_ERR, bridgeErrorBody, type BridgeErrorCode } from './errors.ts';
import { createSessionTable, type SessionLike } from './sessions.ts';
import { createSubscriptions } from './subscriptions.ts';
import { createUpstream, type Upstream, type UpstreamInfo } from './upstream.ts';

/** The path MCP clients use (server-everything and most HTTP servers serve /mcp too). */
export const MCP_PATH = '/mcp';

export interface Bridge {
  /** Start the HTTP listeners and the stdio connection; resolves with the bound ports. */
  listen(): Promise<{ port: number; adminPort: number }>;
  /** SIGTERM: readiness fails at once, sessions close, in-flight requests get the grace period, then the server's stdin is closed. */
  drain(): Promise<void>;
  /** Stop at once (tests). */
  close(): Promise<void>;
  /** True while the stdio server is initialized and the bridge is not draining. */
  readonly ready: boolean;
  readonly upstream: Upstream;
  /** Open 2025-era sessions (tests). */
  readonly sessionCount: number;
}

interface BridgeSession extends SessionLike {
  readonly transport: NodeStreamableHTTPServerTransport;
  readonly server: Server;
  /** Resource URIs this session subscribed to, with the release of each reference. */
  readonly held: Map<string, () => void>;
}

const NEVER = new AbortController().signal;

function send(res: ServerResponse, status: number, code: BridgeErrorCode, message: string, headers: Record<string, string> = {}, rpcCode?: number): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(bridgeErrorBody(code, message, rpcCode));
}

export function createBridge(config: BridgeConfig, deps: { readonly log: Logger; readonly now?: () => number }): Bridge {
  const log = deps.log;
  const now = deps.now ?? Date.now;
  let draining = false;
  let modern: { readonly handler: McpHttpHandler; readonly node: ReturnType<typeof toNodeHandler> } | undefined;

  const sessions = createSessionTable<BridgeSession>({
    max: config.maxSessions,
    idleMs: config.sessionIdleMs,
    now,
    onClosed: (id, why) => log.info({ session: id, why }, 'session closed'),
  });

  const upstream: Upstream = createUpstream(config, {
    log,
    events: {
      onUp(info) {
        const handler = createMcpHandler(() => createDownstreamServer(info, { upstream }), { legacy: 'reject', onerror: (err) => log.debug({ err: err.message }, '2026-07-28 request problem') });
        modern = { handler, node: toNodeHandler(handler, { onerror: (err) => log.warn({ err: err.message }, '2026-07-28 handler failed') }) };
      },
      onDown() {
        const m = modern;
        modern = undefined;
        subscriptions.reset();
        void sessions.closeAll();
        // Ends open subscriptions/listen streams: their subscriptions were for the process that exited.
        void m?.handler.close().catch(() => undefined);
      },
      onNotification: (n) => broadcast(n),
    },
  });

  const subscriptions = createSubscriptions(
    {
      get generation() {
        return upstream.info?.generation;
      },
      subscribe: async (uri) => void (await upstream.request('resources/subscribe', { uri }, { signal: NEVER })),
      unsubscribe: async (uri) => void (await upstream.request('resources/unsubscribe', { uri }, { signal: NEVER })),
    },
    (uri, err) => log.warn({ uri, err: err.message }, 'resources/unsubscribe failed'),
  );

  /** Deliver what the server sent on its own to every client that should see it. */
  function broadcast(n: Notification): void {
    const quiet = (p: Promise<unknown>) => void p.catch((err: Error) => log.debug({ err: err.message, method: n.method }, 'notification not delivered'));
    const params = (n.params ?? {}) as Record<string, unknown>;
    switch (n.method) {
      case 'notifications/tools/list_changed':
        for (const s of sessions.all()) quiet(s.server.sendToolListChanged());
        modern?.handler.notify.toolsChanged();
        return;
      case 'notifications/prompts/list_changed':
        for (const s of sessions.all()) quiet(s.server.sendPromptListChanged());
        modern?.handler.notify.promptsChanged();
        return;
      case 'notifications/resources/list_changed':
        for (const s of sessions.all()) quiet(s.server.sendResourceListChanged());
        modern?.handler.notify.resourcesChanged();
        return;
      case 'notifications/resources/updated': {
        const uri = params.uri;
        if (typeof uri !== 'string') return;
        for (const s of sessions.all()) if (s.held.has(uri)) quiet(s.server.sendResourceUpdated(params as { uri: string }));
        const { uri: _uri, _meta: _m, ...rest } = params;
        modern?.handler.bus.publish({ kind: 'resource_updated', uri, ...(Object.keys(rest).length > 0 ? { params: rest } : {}) });
        return;
      }
      case 'notifications/message':
        // The 2026-07-28 era sends log messages only on the stream of the request that asked for
        // them (SEP-2575); stdio gives no way to tell which request a message belongs to.
        for (const s of sessions.all()) quiet(s.server.sendLoggingMessage(params as never, s.id));
        return;
      default:
        log.debug({ method: n.method }, 'notification from the stdio server not relayed');
    }
  }

  async function openSession(req: IncomingMessage, res: ServerResponse, body: unknown, info: UpstreamInfo): Promise<void> {
    const room = sessions.makeRoom();
    if (room === undefined) {
      send(res, 503, BRIDGE_ERR.SESSIONS_FULL, `${config.maxSessions} sessions are open and none is idle (MCP_STDIO_MAX_SESSIONS)`, { 'retry-after': '5' });
      return;
    }
    const held = new Map<string, () => void>();
    const releaseAll = () => {
      for (const release of held.values()) release();
      held.clear();
    };
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id: string): void => room.fill({ id, transport, server, held, close: () => server.close() }),
      onsessionclosed: (id) => sessions.remove(id),
    });
    const server = createDownstreamServer(info, {
      upstream,
      subscriptions: {
        async subscribe(uri) {
          if (held.has(uri)) return;
          const taken = subscriptions.acquire(uri);
          held.set(uri, () => void taken.then((release) => release(), () => undefined));
          try {
            await taken;
          } catch (err) {
            held.delete(uri);
            throw err;
          }
        },
        unsubscribe(uri) {
          held.get(uri)?.();
          held.delete(uri);
        },
      },
    });
    // Set before connect: the SDK chains its own close handling after this one.
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.remove(transport.sessionId);
      releaseAll();
    };
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
    } finally {
      // initialize failed or threw: its place is free again (nothing once the session filled it).
      room.release();
    }
    // initialize failed (bad params, unsupported version): nothing was registered; drop the pair.
    if (transport.sessionId === undefined || sessions.get(transport.sessionId) === undefined) await server.close().catch(() => undefined);
  }

  /**
   * Resource URIs a 2026-07-28 `subscriptions/listen` asks for; held while its stream is open.
   * Resolves false when the client left while the server was still subscribing: there is no one
   * to serve, and every reference taken is already released.
   */
  async function holdListenSubscriptions(body: unknown, res: ServerResponse, info: UpstreamInfo): Promise<boolean> {
    const b = body as { method?: unknown; params?: { notifications?: { resourceSubscriptions?: unknown } } } | null;
    if (b?.method !== 'subscriptions/listen' || !info.capabilities.resources?.subscribe) return true;
    const uris = b.params?.notifications?.resourceSubscriptions;
    if (!Array.isArray(uris)) return true;
    const releases: Array<() => void> = [];
    // 'close' fires once: a reference taken after it is released as soon as it is taken.
    let closed = false;
    res.on('close', () => {
      closed = true;
      releases.forEach((r) => r());
    });
    for (const uri of new Set(uris.filter((u): u is string => typeof u === 'string' && u !== ''))) {
      if (closed) break;
      try {
        const release = await subscriptions.acquire(uri);
        if (closed) release();
        else releases.push(release);
      } catch (err) {
        log.warn({ uri, err: (err as Error).message }, 'resources/subscribe failed for a subscriptions/listen stream');
      }
    }
    return !closed;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== MCP_PATH) {
      send(res, 404, BRIDGE_ERR.BAD_REQUEST, `MCP is served at ${MCP_PATH}`, {}, ProtocolErrorCode.InvalidRequest);
      return;
    }
    const info = upstream.info;
    const m = modern;
    if (draining || info === undefined || m === undefined) {
      send(res, 503, BRIDGE_ERR.NOT_RUNNING, `the MCP server is not running: ${draining ? 'the bridge is stopping' : (upstream.waitingFor ?? 'starting')}`, { 'retry-after': '1' });
      return;
    }
    const sid = req.headers['mcp-session-id'];
    if (typeof sid === 'string') {
      const s = sessions.get(sid);
      if (!s) {
        // MCP transport spec (2025): 404 tells the client to initialize a new session.
        send(res, 404, BRIDGE_ERR.UNKNOWN_SESSION, 'no such session (closed, expired, or opened with a server process that has since exited): initialize again', {}, -32001);
        return;
      }
      res.on('close', sessions.enter(sid));
      await s.transport.handleRequest(req, res);
      return;
    }
    let body: unknown;
    let legacy: boolean;
    if (req.method === 'POST') {
      let web: Request;
      try {
        web = await toWebRequest(req);
      } catch (err) {
        const tooLarge = (err as { status?: number }).status === 413;
        send(res, tooLarge ? 413 : 400, BRIDGE_ERR.BAD_REQUEST, tooLarge ? 'request body too large' : 'unreadable request body', {}, ProtocolErrorCode.InvalidRequest);
        return;
      }
      try {
        body = JSON.parse(await web.text());
      } catch {
        send(res, 400, BRIDGE_ERR.BAD_REQUEST, 'the request body is not JSON', {}, ProtocolErrorCode.ParseError);
        return;
      }
      legacy = await isLegacyRequest(web, body);
    } else {
      // GET and DELETE without a session are 2025 session operations with no session: the modern
      // handler answers them as the 2026-07-28 transport does (405).
      legacy = false;
    }
    if (legacy) {
      const opens = Array.isArray(body) ? body.some((m) => isInitializeRequest(m)) : isInitializeRequest(body);
      if (!opens) {
        send(res, 400, BRIDGE_ERR.NO_SESSION, 'Mcp-Session-Id is required: send initialize first', {}, ProtocolErrorCode.InvalidRequest);
        return;
      }
      await openSession(req, res, body, info);
      return;
    }
    if (!(await holdListenSubscriptions(body, res, info))) return;
    await m.node(req, res, body);
  }

  const http: HttpServer = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      log.error({ err: err.message }, 'request failed');
      send(res, 500, BRIDGE_ERR.INTERNAL, 'internal error');
    });
  });
  const sockets = new Set<Socket>();
  http.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const admin = createBridgeAdmin({ ready: () => !draining && upstream.state === 'ready', reason: () => (draining ? 'the bridge is stopping' : upstream.waitingFor) });
  const sweeper = setInterval(() => sessions.sweep(), Math.min(config.sessionIdleMs, 60_000));
  sweeper.unref();

  const listenOn = (srv: HttpServer, port: number, host: string) =>
    new Promise<number>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, () => resolve((srv.address() as AddressInfo).port));
    });
  const closeServer = (srv: HttpServer) => new Promise<void>((resolve) => (srv.listening ? srv.close(() => resolve()) : resolve()));

  /**
   * Stop accepting (new requests get 503, readiness fails), end the 2025 GET streams (their clients
   * reconnect elsewhere), let relayed requests in flight finish within the grace period, then close
   * everything and the server's stdin.
   */
  async function stopAll(graceMs: number): Promise<void> {
    draining = true;
    clearInterval(sweeper);
    const closed = Promise.all([closeServer(http), closeServer(admin)]);
    http.closeIdleConnections();
    admin.closeIdleConnections();
    for (const s of sessions.all()) s.transport.closeStandaloneSSEStream();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([upstream.settled(), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    await sessions.closeAll();
    await modern?.handler.close().catch(() => undefined);
    // Whatever is still open (2026-07-28 listen streams, slow clients) ends now.
    for (const s of sockets) s.destroy();
    admin.closeAllConnections();
    await closed;
    await upstream.stop();
  }

  return {
    async listen() {
      // Loopback only: the sidecar in the same pod is the one way in, so auth and policy always apply.
      const port = await listenOn(http, config.listenPort, '127.0.0.1');
      const adminPort = await listenOn(admin, config.adminPort, config.adminHost);
      upstream.start();
      return { port, adminPort };
    },
    drain: () => stopAll(config.shutdownGraceMs),
    close: () => stopAll(0),
    get ready() {
      return !draining && upstream.state === 'ready';
    },
    upstream,
    get sessionCount() {
      return sessions.size;
    },
  };
}
