/**
 * The real MCP test server, @modelcontextprotocol/server-everything, as a child process. It takes
 * its port only from PORT and listens on every interface (FACTS.md); tests reach it on loopback.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort, stopChild, waitForPort } from './ports.ts';

const require = createRequire(import.meta.url);
const ENTRY = join(dirname(require.resolve('@modelcontextprotocol/server-everything/package.json')), 'dist', 'index.js');

export interface Everything {
  readonly url: string;
  readonly port: number;
  readonly output: () => string;
  stop(): Promise<void>;
}

export async function startEverything(transport: 'streamableHttp' | 'sse' = 'streamableHttp'): Promise<Everything> {
  const port = await freePort();
  const child = spawn(process.execPath, [ENTRY, transport], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitForPort(port, child, 20_000);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    output: () => out,
    stop: () => stopChild(child),
  };
}
