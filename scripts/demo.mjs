// npm run demo: a real MCP server (server-everything over Streamable HTTP) on loopback with the
// sidecar in front of it and a freshly generated API key. Prints the URL, the key and a command
// that connects with the official MCP client. Ctrl-C stops both cleanly.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { freePort, waitForPort } from '../test/helpers/ports.ts';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const everything = join(dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')), 'dist', 'index.js');

const key = randomBytes(24).toString('base64url');
const mcpPort = await freePort();
const port = await freePort();
const adminPort = await freePort();

const upstream = spawn(process.execPath, [everything, 'streamableHttp'], { env: { ...process.env, PORT: String(mcpPort) }, stdio: ['ignore', 'ignore', 'inherit'] });
await waitForPort(mcpPort, upstream);
const sidecar = spawn(process.execPath, [join(root, 'dist', 'sidecar.mjs')], {
  env: {
    ...process.env,
    MCP_AUTH_UPSTREAM_URL: `http://127.0.0.1:${mcpPort}`,
    MCP_AUTH_KEY: key,
    MCP_AUTH_LISTEN_HOST: '127.0.0.1',
    MCP_AUTH_LISTEN_PORT: String(port),
    MCP_AUTH_ADMIN_HOST: '127.0.0.1',
    MCP_AUTH_ADMIN_PORT: String(adminPort),
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
await waitForPort(port, sidecar);

const url = `http://127.0.0.1:${port}/mcp`;
console.log(`
mcp-warden demo
  MCP endpoint (protected): ${url}
  API key (header X-API-Key): ${key}
  admin: http://127.0.0.1:${adminPort}/metrics  /readyz  /livez

Connect with the official MCP client (lists tools, calls echo):
  node scripts/mcp-client.mjs ${url} ${key}
Without the key you get 401:
  curl -si -X POST ${url} -H 'content-type: application/json' -d '{}'

Ctrl-C stops both.
`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  sidecar.kill('SIGTERM');
  sidecar.once('exit', () => {
    upstream.kill('SIGTERM');
    upstream.once('exit', () => process.exit(0));
  });
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
sidecar.on('exit', (code) => {
  if (!stopping) {
    console.error(`sidecar exited with code ${code}`);
    upstream.kill('SIGTERM');
    process.exit(1);
  }
});
