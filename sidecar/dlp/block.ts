/**
 * Block mode: what replaces a response (or an SSE event) that carried a secret.
 *
 * MCP speaks JSON-RPC 2.0, so a blocked JSON-RPC response becomes a JSON-RPC error with the same
 * `id` (JSON-RPC 2.0 section 5.1): the client's pending request completes with an error instead of
 * hanging, and the session stays usable. The error names the rules (never the secret). Status and
 * headers were already chosen by the upstream; a JSON-RPC error travels fine in a 200.
 */
import { ERR } from '../errors.ts';
import { RPC_ERROR, rpcError } from '../jsonrpc-error.ts';

/** The request id of a JSON-RPC message, or null when there is none or the text is not JSON. */
export function rpcIdOf(text: string): string | number | null {
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const id = (v as { id?: unknown }).id;
      if (typeof id === 'string' || typeof id === 'number') return id;
    }
  } catch {
    // not JSON: no id to answer
  }
  return null;
}

/** A JSON-RPC error answering the message in `original` (UTF-8 text). */
export function blockedRpcError(original: string, rules: readonly string[]): string {
  return JSON.stringify(rpcError(rpcIdOf(original), RPC_ERROR.INTERNAL, 'Response blocked by DLP policy', ERR.DLP_BLOCKED, { rules: [...new Set(rules)] }));
}

/** The plain-text body that replaces a blocked non-JSON response. */
export function blockedText(rules: readonly string[]): string {
  return `Response blocked by DLP policy (rules: ${[...new Set(rules)].join(', ')})\n`;
}
