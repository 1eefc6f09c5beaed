/**
 * The MCP server each HTTP client talks to: an SDK Server that presents the stdio server's identity,
 * capabilities and instructions and relays requests to it. One instance per 2025-era session, and
 * one per request in the 2026-07-28 era (the SDK's per-request model), so each client's ids,
 * progress tokens, responses and notifications stay its own. The SDK encodes every result for the
 * client's era (2026-07-28 results gain `resultType` and cache fields), which is what lets a
 * 2025-only stdio server answer clients of both eras.
 */
import { ProtocolErrorCode, Server, type ServerCapabilities } from '@modelcontextprotocol/server';
import { BRIDGE_ERR, bridgeError } from './errors.ts';
import type { Upstream, UpstreamInfo } from './upstream.ts';

/** Requests relayed to the stdio server as they are. Anything else is the bridge's own or refused. */
export const RELAYED_METHODS: ReadonlySet<string> = new Set(['tools/list', 'tools/call', 'prompts/list', 'prompts/get', 'resources/list', 'resources/templates/list', 'resources/read', 'completion/complete']);

/**
 * What the bridge advertises: the server's own capabilities for the features it relays. Tasks and
 * experimental capabilities are left out: task handles would be shared by every client of the one
 * process, and the bridge cannot know what an experimental feature needs.
 */
export function advertisedCapabilities(server: ServerCapabilities): ServerCapabilities {
  const out: ServerCapabilities = {};
  if (server.tools) out.tools = server.tools.listChanged ? { listChanged: true } : {};
  if (server.prompts) out.prompts = server.prompts.listChanged ? { listChanged: true } : {};
  if (server.resources) out.resources = { ...(server.resources.subscribe ? { subscribe: true } : {}), ...(server.resources.listChanged ? { listChanged: true } : {}) };
  if (server.completions) out.completions = {};
  if (server.logging) out.logging = {};
  return out;
}

/**
 * Split a client's params into what goes to the server and the client's progress token: the
 * bridge's Client mints its own token for the server (unique across every client), and progress is
 * reported back under the token this client chose.
 */
export function splitProgressToken(params: Record<string, unknown> | undefined): { params: Record<string, unknown> | undefined; progressToken: string | number | undefined } {
  const meta = params?._meta;
  if (params === undefined || meta === null || typeof meta !== 'object' || !('progressToken' in meta)) return { params, progressToken: undefined };
  const { progressToken, ...restMeta } = meta as Record<string, unknown>;
  const { _meta: _drop, ...rest } = params;
  const out = Object.keys(restMeta).length > 0 ? { ...rest, _meta: restMeta } : rest;
  return { params: out, progressToken: typeof progressToken === 'string' || typeof progressToken === 'number' ? progressToken : undefined };
}

export interface SessionSubscriptions {
  subscribe(uri: string): Promise<void>;
  unsubscribe(uri: string): void;
}

/**
 * A Server for one session (2025 era, with `subscriptions`) or one request (2026-07-28, where the
 * SDK answers `resources/subscribe` as a method the era does not have).
 */
export function createDownstreamServer(info: UpstreamInfo, deps: { readonly upstream: Pick<Upstream, 'request'>; readonly subscriptions?: SessionSubscriptions }): Server {
  const capabilities = advertisedCapabilities(info.capabilities);
  const server = new Server(info.serverInfo, { capabilities, ...(info.instructions === undefined ? {} : { instructions: info.instructions }) });
  server.fallbackRequestHandler = async (request, ctx) => {
    const method = request.method;
    if ((method === 'resources/subscribe' || method === 'resources/unsubscribe') && deps.subscriptions && capabilities.resources?.subscribe) {
      const uri = (request.params as { uri?: unknown } | undefined)?.uri;
      if (typeof uri !== 'string' || uri === '') throw bridgeError(ProtocolErrorCode.InvalidParams, BRIDGE_ERR.BAD_REQUEST, `${method} needs params.uri, a non-empty string`);
      if (method === 'resources/subscribe') await deps.subscriptions.subscribe(uri);
      else deps.subscriptions.unsubscribe(uri);
      return {};
    }
    if (!RELAYED_METHODS.has(method)) throw bridgeError(ProtocolErrorCode.MethodNotFound, BRIDGE_ERR.METHOD_NOT_RELAYED, `${method} is not relayed to the stdio server`);
    const { params, progressToken } = splitProgressToken(request.params as Record<string, unknown> | undefined);
    const onprogress =
      progressToken === undefined
        ? undefined
        : (p: Record<string, unknown>) => {
            // The client may have gone; a failed progress write must not fail the request.
            ctx.mcpReq.notify({ method: 'notifications/progress', params: { ...p, progressToken } }).catch(() => undefined);
          };
    return deps.upstream.request(method, params, { signal: ctx.mcpReq.signal, ...(onprogress ? { onprogress } : {}) });
  };
  return server;
}
