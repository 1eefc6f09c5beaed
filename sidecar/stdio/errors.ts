/**
 * The bridge's stable error codes. Each refusal the bridge makes on the server's behalf is a
 * JSON-RPC error whose `data.code` is one of these, so clients and logs can switch on it; the
 * message says what happened in words.
 */
import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';

export const BRIDGE_ERR = {
  /** The stdio server is not running (starting, restarting, or its container failed to start). */
  NOT_RUNNING: 'ERR_STDIO_NOT_RUNNING',
  /** The stdio server exited while a request was waiting for its answer. */
  EXITED: 'ERR_STDIO_EXITED',
  /** The stdio server did not answer within MCP_STDIO_REQUEST_TIMEOUT_MS. */
  TIMEOUT: 'ERR_STDIO_TIMEOUT',
  /** The stdio server asked the client something the bridge cannot relay (sampling, elicitation, roots). */
  UNSUPPORTED: 'ERR_STDIO_UNSUPPORTED',
  /** A method the bridge does not relay. */
  METHOD_NOT_RELAYED: 'ERR_STDIO_METHOD_NOT_RELAYED',
  /** MCP_STDIO_MAX_SESSIONS sessions are open and none is idle. */
  SESSIONS_FULL: 'ERR_STDIO_SESSIONS_FULL',
  /** A 2025-era request without a session (only initialize may open one). */
  NO_SESSION: 'ERR_STDIO_NO_SESSION',
  /** A 2025-era request naming a session the bridge does not have (closed, expired, or from a server process that exited). */
  UNKNOWN_SESSION: 'ERR_STDIO_UNKNOWN_SESSION',
  /** Not an MCP request: another path, an unreadable or oversized body, a body that is not JSON. */
  BAD_REQUEST: 'ERR_STDIO_BAD_REQUEST',
  /** A bug in the bridge (logged); the client gets 500. */
  INTERNAL: 'ERR_STDIO_INTERNAL',
} as const;

export type BridgeErrorCode = (typeof BRIDGE_ERR)[keyof typeof BRIDGE_ERR];

/** A JSON-RPC error for a handler to throw; the SDK writes code, message and data to the client. */
export function bridgeError(rpcCode: number, code: BridgeErrorCode, message: string): ProtocolError {
  return new ProtocolError(rpcCode, `mcp-warden stdio bridge: ${message}`, { code });
}

/** A JSON-RPC error body for the HTTP edge (no request id is known there). */
export function bridgeErrorBody(code: BridgeErrorCode, message: string, rpcCode: number = ProtocolErrorCode.InternalError): string {
  return JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: rpcCode, message: `mcp-warden stdio bridge: ${message}`, data: { code } } });
}
