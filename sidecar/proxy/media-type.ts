/**
 * Content-Type and body-presence questions every stage asks, answered in one place so body
 * reading, tool policy, the tools/list filter, DLP and the edge classify a message the same way.
 */
import type { IncomingHttpHeaders } from 'node:http';

/**
 * The media type essence (RFC 9110 8.3.1: type/subtype, case-insensitive, before any parameter)
 * and the charset parameter, if any. Deliberately simple: anything it cannot read is "not JSON".
 */
export function mediaType(header: string | readonly string[] | undefined): { essence: string; charset: string | undefined } {
  const value = Array.isArray(header) ? header[0] : (header as string | undefined);
  // Most values have no parameter: no split, no regex.
  if (value !== undefined && !value.includes(';')) return { essence: value.trim().toLowerCase(), charset: undefined };
  const parts = (value ?? '').split(';');
  const essence = (parts[0] ?? '').trim().toLowerCase();
  let charset: string | undefined;
  for (const p of parts.slice(1)) {
    const m = /^\s*charset\s*=\s*"?([^";\s]*)"?\s*$/i.exec(p);
    if (m) charset = (m[1] ?? '').toLowerCase();
  }
  return { essence, charset };
}

export type BodyKind = 'sse' | 'json' | 'text';

/** SSE, JSON (`application/json` or any `+json`), or anything else. */
export function bodyKind(contentType: string | readonly string[] | undefined): BodyKind {
  const { essence } = mediaType(contentType);
  if (essence === 'text/event-stream') return 'sse';
  if (essence === 'application/json' || essence.endsWith('+json')) return 'json';
  return 'text';
}

/** Whether a request carries a body (RFC 9112 6.3: Transfer-Encoding, or a non-zero Content-Length). */
export function hasBody(headers: IncomingHttpHeaders): boolean {
  const cl = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0');
}
