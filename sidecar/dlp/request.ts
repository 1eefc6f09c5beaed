/**
 * Request-body scanning (setting `dlpRequests`): the JSON-RPC body the pipeline already read (within
 * the body cap; proxy/body.ts reads only JSON bodies) is redacted before it is forwarded, so secrets
 * in tool arguments never reach the MCP server. It is redacted in JSON mode and stays valid JSON; a
 * JSON-RPC body keeps its protocol-opaque fields (an echoed requestState, a cursor, a progress token).
 */
import type { JsonOptions, Redactor } from './redactor.ts';

export function redactRequestBody(redactor: Redactor, body: Buffer, opts: JsonOptions = {}): { body: Buffer; matches: string[] } {
  const r = redactor.redactLatin1(body.toString('latin1'), true, undefined, opts);
  return { body: r.matches.length === 0 ? body : Buffer.from(r.text, 'latin1'), matches: r.matches };
}
