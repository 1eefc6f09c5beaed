/**
 * The bridge's probe listener: /livez (the process serves) and /readyz (200 while the stdio server
 * is initialized; 503 with the reason while it is not, so the pod leaves its Service's endpoints
 * while the MCP container restarts). It listens on the pod IP because the kubelet probes from the
 * node; the MCP listener itself stays on loopback.
 */
import { createServer, type Server } from 'node:http';

export function createBridgeAdmin(deps: { readonly ready: () => boolean; readonly reason: () => string | undefined }): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    } else if (path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      if (deps.ready()) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      else res.writeHead(503, { 'content-type': 'text/plain' }).end(`not ready: ${deps.reason() ?? 'starting'}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
}
