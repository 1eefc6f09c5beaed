/**
 * The end-to-end stack most sidecar tests need: the real server-everything on a transport with a
 * sidecar in front of it, started in `before` and stopped in `after` of the calling describe().
 */
import { after, before } from 'node:test';
import { startEverything, type Everything } from './everything.ts';
import { startSidecar, type RunningSidecar } from './sidecar.ts';
import type { Transport } from './mcp-client.ts';

export interface McpStack {
  readonly upstream: Everything;
  readonly sidecar: RunningSidecar;
}

/** Call inside describe(); the returned object's fields are set once `before` has run. */
export function useMcpStack(transport: Transport, env: Record<string, string>): McpStack {
  const stack = {} as { upstream: Everything; sidecar: RunningSidecar };
  before(async () => {
    stack.upstream = await startEverything(transport);
    stack.sidecar = await startSidecar({ MCP_AUTH_UPSTREAM_URL: stack.upstream.url, ...env });
  });
  after(async () => {
    await stack.sidecar?.close();
    await stack.upstream?.stop();
  });
  return stack;
}
