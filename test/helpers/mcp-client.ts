/** The official MCP TypeScript SDK client, connected through a URL with extra headers. */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export type Transport = 'streamableHttp' | 'sse';

/** `base` is the sidecar's origin; the path is the transport's (/mcp or /sse). */
export async function connectClient(base: string, transport: Transport, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'mcp-warden-test', version: '1.0.0' });
  const requestInit = { headers };
  const t =
    transport === 'streamableHttp'
      ? new StreamableHTTPClientTransport(new URL('/mcp', base), { requestInit })
      : new SSEClientTransport(new URL('/sse', base), {
          requestInit,
          // The EventSource GET carries the same headers (the key must reach the sidecar).
          eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) },
        });
  await client.connect(t);
  return client;
}
