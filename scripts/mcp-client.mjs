// A real MCP client (the official TypeScript SDK) for trying a protected endpoint by hand:
//   node scripts/mcp-client.mjs <url> [api-key] [--header X-API-Key] [--bearer TOKEN]
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const args = process.argv.slice(2);
const url = args[0];
if (!url) {
  console.error('usage: node scripts/mcp-client.mjs <url> [api-key] [--header NAME] [--bearer TOKEN]');
  process.exit(2);
}
const opt = (name) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const headers = {};
if (args[1] && !args[1].startsWith('--')) headers[opt('--header') ?? 'X-API-Key'] = args[1];
if (opt('--bearer')) headers.Authorization = `Bearer ${opt('--bearer')}`;

const client = new Client({ name: 'mcp-warden-demo-client', version: '1.0.0' });
try {
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  const { tools } = await client.listTools();
  console.log(`tools (${tools.length}): ${tools.map((t) => t.name).join(', ')}`);
  const res = await client.callTool({ name: 'echo', arguments: { message: 'hello through mcp-warden' } });
  console.log(`echo -> ${res.content?.[0]?.text}`);
  await client.close();
} catch (err) {
  console.error(`failed: ${err.message}`);
  process.exit(1);
}
