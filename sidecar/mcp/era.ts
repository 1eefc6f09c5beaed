/**
 * Which protocol era a parsed JSON-RPC body belongs to, decided from the body first, as the MCP SDK's
 * dual-era servers decide it (a proxy that strips or adds a header must not change the era):
 *
 * - a single message whose `params._meta` carries `io.modelcontextprotocol/protocolVersion` uses the
 *   per-request envelope: modern. (An `initialize` whose claim does not name a modern revision is
 *   still the legacy handshake.)
 * - a message without that claim under a modern `MCP-Protocol-Version` header is modern too; for a
 *   request that is a header/body disagreement, which mirrored-headers.ts refuses;
 * - everything else is legacy: batches, posted responses, requests without the claim.
 *
 * Pure: the caller passes the parsed body and the header.
 */
import type { ParsedCall } from '../policy/jsonrpc.ts';
import { PROTOCOL_VERSION_META_KEY, isModernVersion, isObject, metaOf, type McpMessage } from './message.ts';

/** The era and revision of a body (`calls` and `doc` as parseJsonRpc returned them). */
export function classifyMessage(doc: unknown, calls: readonly ParsedCall[], versionHeader: string | undefined): McpMessage {
  const legacy = (protocolVersion: string | undefined): McpMessage => ({ era: 'legacy', protocolVersion, calls, doc });
  if (Array.isArray(doc) || calls[0]?.kind === 'response') return legacy(versionHeader);
  const meta = metaOf(doc);
  const claimed = meta !== undefined && PROTOCOL_VERSION_META_KEY in meta;
  const claim = claimed ? meta[PROTOCOL_VERSION_META_KEY] : undefined;
  const method = calls[0]?.method;
  const modernClaim = typeof claim === 'string' && isModernVersion(claim);
  if (claimed && (method !== 'initialize' || modernClaim)) return { era: 'modern', protocolVersion: typeof claim === 'string' ? claim : undefined, calls, doc };
  if (!claimed && versionHeader !== undefined && isModernVersion(versionHeader)) return { era: 'modern', protocolVersion: versionHeader, calls, doc };
  if (versionHeader !== undefined) return legacy(versionHeader);
  const params = isObject(doc) ? doc.params : undefined;
  const asked = method === 'initialize' && isObject(params) && typeof params.protocolVersion === 'string' ? params.protocolVersion : undefined;
  return legacy(asked);
}
