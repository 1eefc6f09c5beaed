/**
 * Bundled for the browser by browser.test.ts (esbuild, at test time, from node_modules): the
 * official MCP SDK client as a web page would use it, exposed on `window` for the test to call.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

async function listTools(url: string, headers: Record<string, string>): Promise<{ tools?: string[]; sessionId?: string; error?: string }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = new Client({ name: 'mcp-warden-browser-test', version: '1.0.0' });
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    // Readable only if the sidecar exposes Mcp-Session-Id to this origin.
    return { tools: tools.map((t) => t.name), ...(transport.sessionId ? { sessionId: transport.sessionId } : {}) };
  } catch (err) {
    return { error: `${(err as Error).name}: ${(err as Error).message}` };
  } finally {
    await client.close().catch(() => undefined);
  }
}

(globalThis as unknown as { listTools: typeof listTools }).listTools = listTools;
