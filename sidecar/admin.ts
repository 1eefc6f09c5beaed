/**
 * The admin listener: /livez (the process serves), /readyz (503 once draining, so Kubernetes stops
 * sending traffic before the drain ends, and while every upstream connection for ordinary requests
 * is in use, so a Service sends new requests to a replica that can take them) and /metrics
 * (Prometheus text format). It runs on its own port so probes and scrapes never pass through
 * authentication or rate limits.
 */
import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics.ts';

export function createAdminServer(deps: { metrics: Metrics; isDraining: () => boolean; upstreamSaturated: () => boolean }): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      if (deps.isDraining()) res.writeHead(503, { 'content-type': 'text/plain' }).end('draining\n');
      else if (deps.upstreamSaturated()) res.writeHead(503, { 'content-type': 'text/plain' }).end('upstream connections exhausted\n');
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/metrics') {
      deps.metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': deps.metrics.registry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err.message}\n`),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
}
