// The floor for a Node proxy on this machine, as a baseline for bench/proxy.bench.ts: undici's
// pool and request API (as the sidecar uses them), a body piped back, and nothing else: no auth,
// no stages, no metrics, no logs. Usage: node bench/minimal-proxy.mjs <listen port> <upstream url>
import http from 'node:http';
import { Pool } from 'undici';

const [port, upstream] = process.argv.slice(2);
const host = new URL(upstream).host;
const pool = new Pool(upstream, { pipelining: 1, bodyTimeout: 0, connections: 128 });
http
  .createServer(async (req, res) => {
    try {
      const r = await pool.request({ path: req.url, method: req.method, headers: { host } });
      res.writeHead(r.statusCode, r.headers);
      r.body.pipe(res);
    } catch {
      res.writeHead(502).end();
    }
  })
  .listen(Number(port), '127.0.0.1');
// Exit normally on SIGTERM, so `node --cpu-prof` writes its profile (bench/profile.ts).
process.on('SIGTERM', () => process.exit(0));
