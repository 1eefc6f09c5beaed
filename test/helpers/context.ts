/** A RequestContext for testing one stage alone, as server.ts would build it. */
import type { IncomingHttpHeaders } from 'node:http';
import type { Identity, RequestContext, RpcCall } from '../../sidecar/context.ts';

export function makeContext(o: { ip?: string; identity?: Identity; rpc?: RpcCall[]; method?: string; path?: string; headers?: IncomingHttpHeaders; body?: Buffer } = {}): RequestContext {
  return {
    startedAt: 0,
    method: o.method ?? 'POST',
    path: o.path ?? '/mcp',
    search: '',
    headers: o.headers ?? {},
    clientIp: o.ip ?? '192.0.2.1',
    identity: o.identity,
    body: o.body,
    rpc: o.rpc,
    dropHeaders: new Set(),
    addHeaders: {},
    responseHeaders: {},
    responseTransforms: [],
    onDone: [],
    logFields: {},
  };
}
