/**
 * A real MCP SDK v2 server (@modelcontextprotocol/server + /node, the 2026-07-28 revision and the
 * 2025 era through its stateless legacy fallback) on port 0, recording every request it receives,
 * with a surface that exercises what the sidecar must get right in both eras:
 *
 * - `echo` (message), `leak` (answers with a secret), `forbidden` (for tool policy), `query` with an
 *   `x-mcp-header` argument (`region` -> Mcp-Param-Region), `deploy` (an elicitation through an
 *   InputRequiredResult whose question holds a secret; its requestState is a JWT signed with HMAC
 *   and verified on the retry, so a changed byte fails the call);
 * - resources `file:///config.json` and the template `vault://items/{item}`; the prompt `greet`;
 * - tools/list answered with `ttlMs: 60000` and `cacheScope: "public"`;
 * - `notify.toolsChanged()` publishes on open `subscriptions/listen` streams.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { acceptedContent, createMcpHandler, fromJsonSchema, inputRequired, McpServer, ResourceTemplate, type McpHttpHandler } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import * as z from 'zod';

/** A secret shaped like a GitHub token (the `github-pat` rule). */
export const LEAKED = 'ghp_0123456789abcdefghijABCDEFGHIJ012345';
/** A secret shaped like an AWS key id, in the elicitation question. */
export const ASKED = 'AKIAIOSFODNN7EXAMPLE';
const STATE_KEY = Buffer.from('requestState-hmac-key-for-tests');

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface V2Server {
  /** The MCP endpoint (…/mcp). */
  readonly url: string;
  readonly seen: SeenRequest[];
  /** The requestState values the server minted, in order. */
  readonly minted: string[];
  readonly notify: McpHttpHandler['notify'];
  close(): Promise<void>;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** An HS256 JWT over the call it belongs to: what a stateless server keeps in requestState. */
function mint(payload: object): string {
  const head = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(payload))}`;
  return `${head}.${b64url(createHmac('sha256', STATE_KEY).update(head).digest())}`;
}

function verify(state: string): void {
  const [h, p, sig] = state.split('.');
  const good = createHmac('sha256', STATE_KEY).update(`${h}.${p}`).digest();
  const got = Buffer.from(sig ?? '', 'base64url');
  if (got.length !== good.length || !timingSafeEqual(got, good)) throw new Error('requestState failed its integrity check');
}

export async function startV2Server(responseMode: 'json' | 'sse' | 'auto'): Promise<V2Server> {
  const minted: string[] = [];
  const factory = (): McpServer => {
    const s = new McpServer(
      { name: 'warden-v2-test', version: '1.0.0' },
      { capabilities: { tools: { listChanged: true }, resources: {}, prompts: {} }, cacheHints: { 'tools/list': { ttlMs: 60_000, cacheScope: 'public' } }, requestState: { verify } },
    );
    s.registerTool('echo', { description: 'Echo a message', inputSchema: z.object({ message: z.string() }) }, async ({ message }) => ({ content: [{ type: 'text', text: `echo: ${message}` }] }));
    s.registerTool('leak', { description: 'Answers with a token', inputSchema: z.object({}) }, async () => ({ content: [{ type: 'text', text: `token ${LEAKED}` }] }));
    s.registerTool('forbidden', { description: 'Denied by policy', inputSchema: z.object({}) }, async () => ({ content: [{ type: 'text', text: 'ran' }] }));
    s.registerTool(
      'query',
      {
        description: 'A query routed by region',
        inputSchema: fromJsonSchema({ type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' }, sql: { type: 'string' } }, required: ['region', 'sql'] } as never),
      },
      async (args: unknown) => {
        const { region, sql } = args as { region: string; sql: string };
        return { content: [{ type: 'text', text: `region=${region} sql=${sql}` }] };
      },
    );
    s.registerTool('deploy', { description: 'Deploy after a confirmation', inputSchema: z.object({ env: z.string() }) }, async ({ env }, ctx) => {
      const answer = acceptedContent(ctx.mcpReq.inputResponses, 'confirm');
      if (answer === undefined) {
        const state = mint({ tool: 'deploy', env, n: minted.length });
        minted.push(state);
        return inputRequired({
          inputRequests: { confirm: inputRequired.elicit({ message: `Deploy to ${env} with key ${ASKED}?`, requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } }) },
          requestState: state,
        });
      }
      return { content: [{ type: 'text', text: `deployed to ${env}: ${JSON.stringify(answer)}; state ${ctx.mcpReq.requestState<string>() === undefined ? 'missing' : 'verified'}` }] };
    });
    s.registerResource('config', 'file:///config.json', { mimeType: 'application/json' }, async (uri) => ({ contents: [{ uri: uri.href, text: '{"mode":"test"}' }] }));
    s.registerResource('vault', new ResourceTemplate('vault://items/{item}', { list: undefined }), { mimeType: 'text/plain' }, async (uri, vars) => ({
      contents: [{ uri: uri.href, text: `item ${String(vars.item)}` }],
    }));
    s.registerPrompt('greet', { description: 'Greet someone', argsSchema: z.object({ name: z.string() }) }, ({ name }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Hello ${name}` } }] }));
    return s;
  };
  const handler = createMcpHandler(factory, { responseMode, keepAliveMs: 0, onerror: () => {} });
  const node = toNodeHandler(handler);
  const seen: SeenRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: body.toString('utf8') });
      // The SDK reads the body from an async iterable: hand it the bytes recorded here.
      const replay = {
        method: req.method,
        url: req.url,
        headers: req.headers,
        async *[Symbol.asyncIterator]() {
          if (body.length > 0) yield body;
        },
      };
      void node(replay, res as never);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    seen,
    minted,
    notify: handler.notify,
    async close() {
      await handler.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
