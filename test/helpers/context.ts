/** A RequestContext for testing one stage alone, as server.ts builds it. */
import type { IncomingHttpHeaders } from 'node:http';
import { createRequestContext, type Identity, type RequestContext, type RpcCall } from '../../sidecar/context.ts';

export function makeContext(o: { ip?: string; identity?: Identity; rpc?: RpcCall[]; method?: string; path?: string; headers?: IncomingHttpHeaders; body?: Buffer } = {}): RequestContext {
  return createRequestContext({
    startedAt: 0,
    method: o.method ?? 'POST',
    path: o.path ?? '/mcp',
    headers: o.headers ?? {},
    clientIp: o.ip ?? '192.0.2.1',
    identity: o.identity,
    body: o.body,
    rpc: o.rpc,
  });
}
