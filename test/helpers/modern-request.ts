/**
 * The parts of a 2026-07-28 request built by hand (raw HTTP, or readMessage in a unit test): the
 * `_meta` envelope every such request carries, the standard mirrored headers, and the Base64
 * sentinel form of a header value.
 */

/** The revision these requests speak. */
export const MODERN_VERSION = '2026-07-28';

/** The `_meta` a 2026-07-28 request carries in its params: revision, client identity, capabilities. */
export const MODERN_META = { 'io.modelcontextprotocol/protocolVersion': MODERN_VERSION, 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };

/** `s` in the Base64 sentinel form, always (the sidecar's encodeMirrored uses it only where needed). */
export const b64 = (s: string): string => `=?base64?${Buffer.from(s, 'utf8').toString('base64')}?=`;

/** The mirrored headers a request carries: the revision, Mcp-Method and, where given, Mcp-Name. */
export const std = (method: string, name?: string): Record<string, string> => ({ 'mcp-protocol-version': MODERN_VERSION, 'mcp-method': method, ...(name === undefined ? {} : { 'mcp-name': name }) });
