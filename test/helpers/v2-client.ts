/**
 * The MCP SDK v2 client (@modelcontextprotocol/client), by default as a 2026-07-28 client: it
 * negotiates the era with `server/discover` at connect, mirrors routing fields into headers,
 * fulfils elicitations that come back inside results (answering `ok: true` and recording each
 * question), and echoes requestState byte for byte. With `mode: 'legacy'` it opens a 2025 session.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

export interface V2Client {
  readonly client: Client;
  /** The elicitation questions the client was asked, in order. */
  readonly questions: string[];
  close(): Promise<void>;
}

export interface V2Options {
  /** 'auto' (the default) negotiates 2026-07-28 where the server offers it; 'legacy' stays in the 2025 era. */
  readonly mode?: 'auto' | 'legacy';
  /** Called at each resources/list_changed, at once (the client does not refetch the list). */
  readonly onResourcesChanged?: () => void;
}

/** `url` is the MCP endpoint; `headers` go on every request (the API key). */
export async function connectV2(url: string, headers: Record<string, string> = {}, opts: V2Options = {}): Promise<V2Client> {
  const { onResourcesChanged } = opts;
  const client = new Client(
    { name: 'warden-v2-client', version: '1.0.0' },
    {
      versionNegotiation: { mode: opts.mode ?? 'auto' },
      capabilities: { elicitation: { form: {} } },
      ...(onResourcesChanged ? { listChanged: { resources: { autoRefresh: false, debounceMs: 0, onChanged: () => onResourcesChanged() } } } : {}),
    },
  );
  const questions: string[] = [];
  client.setRequestHandler('elicitation/create', async (req) => {
    questions.push((req.params as { message: string }).message);
    return { action: 'accept', content: { ok: true } };
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return { client, questions, close: () => client.close() };
}

/** The text of a tool result's content, its parts joined by newlines (from either SDK's client). */
export const textOf = (r: object): string => ((r as { content?: Array<{ text?: string }> }).content ?? []).map((c) => c.text ?? '').join('\n');
