/**
 * The JSON-RPC 2.0 error object (section 5.1) the sidecar answers with in place of an upstream
 * result: a refused tool call, a tools/list answer it could not filter, a response DLP blocked.
 * One shape and one table of codes, so clients see the same structure whoever refused.
 */
import type { ErrorCode } from './errors.ts';
import type { RpcCall } from './context.ts';

export const RPC_ERROR = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  /**
   * A tool the caller may not call. -32602 is what MCP servers answer for an unknown tool (MCP
   * "Tools" spec, error handling), so clients already treat it as "this tool is not for you".
   * The MCP SDK uses -32001 for RequestTimeout (a client may retry it), so the sidecar never does.
   */
  TOOL_FORBIDDEN: -32602,
  /** The server could not return this result: a tools/list answer it could not filter, or DLP block mode. */
  INTERNAL: -32603,
  /**
   * MCP 2026-07-28 `HeaderMismatch`: the mirrored headers (MCP-Protocol-Version, Mcp-Method,
   * Mcp-Name, Mcp-Param-*) disagree with the body, or a required one is missing or malformed.
   */
  HEADER_MISMATCH: -32020,
} as const;

/** A JSON-RPC error message; `data.code` carries the sidecar's stable error code. */
export function rpcError(id: RpcCall['id'], rpcCode: number, message: string, code: ErrorCode, extra: Record<string, unknown> = {}) {
  return { jsonrpc: '2.0' as const, id: id ?? null, error: { code: rpcCode, message, data: { code, ...extra } } };
}
