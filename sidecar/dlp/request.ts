/**
 * Request-body scanning (setting `dlpRequests`): the JSON-RPC body the pipeline already read (within
 * the body cap) is redacted before it is forwarded, so secrets in tool arguments never reach the MCP
 * server. JSON bodies are redacted in JSON mode and stay valid JSON.
 */
import type { Redactor } from './redactor.ts';
import { bodyKind } from './transform.ts';

export function redactRequestBody(redactor: Redactor, body: Buffer, contentType: string | undefined): { body: Buffer; matches: string[] } {
  const text = body.toString('latin1');
  const json = bodyKind(contentType) === 'json' || /^\s*[[{]/.test(text);
  const r = redactor.redactLatin1(text, json);
  return { body: r.matches.length === 0 ? body : Buffer.from(r.text, 'latin1'), matches: r.matches };
}
