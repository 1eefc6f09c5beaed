/**
 * The MCP SDK v2 client (@modelcontextprotocol/client) as a 2026-07-28 client: it negotiates the era
 * with `server/discover` at connect, mirrors routing fields into headers, fulfils elicitations that
 * come back inside results (answering `ok: true` and recording each question), and echoes
 * requestState byte for byte.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

export interface V2Client {
  readonly client: Client;
  /** The elicitation questions the client was asked, in order. */
  readonly questions: string[];
  close(): Promise<void>;
}

/** `url` is the MCP endpoint; `headers` go on every request (the API key). */
export async function connectV2(url: string, headers: Record<string, string> = {}): Promise<V2Client> {
  const client = new Client({ name: 'warden-v2-client', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' }, capabilities: { elicitation: { form: {} } } });
  const questions: string[] = [];
  client.setRequestHandler('elicitation/create', async (req) => {
    questions.push((req.params as { message: string }).message);
    return { action: 'accept', content: { ok: true } };
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return { client, questions, close: () => client.close() };
}
