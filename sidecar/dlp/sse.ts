/**
 * DLP for Server-Sent Events: redaction per event. Events are split with the shared SSE framing
 * (../stream/sse.ts), so `event:`, `id:`, `retry:`, comments, blank lines and line endings pass
 * byte for byte; only the data changes. An event with nothing to redact passes untouched (e.g. the
 * legacy transport's `event: endpoint` / `data: /message?sessionId=...`). A JSON data payload is
 * redacted in JSON mode, so it stays valid JSON.
 *
 * Block mode replaces the offending event's data with a JSON-RPC error carrying the same id (see
 * block.ts) and keeps its `event:`/`id:` lines, so a Streamable HTTP client sees the answer to its
 * request as an error, and the stream goes on.
 *
 * An event is held until it is complete; one larger than `maxEventBytes` ends the stream with an error.
 * With `jsonRpc` (the events of an MCP exchange) each data payload is a JSON-RPC message whose
 * protocol-opaque fields are left alone (mcp/opaque-fields.ts).
 */
import { ERR, WardenError } from '../errors.ts';
import { SseSplitter, eventData, parseEventLines, replaceEventData, type SseLine } from '../stream/sse.ts';
import { blockedRpcError } from './block.ts';
import type { JsonOptions, Redactor } from './redactor.ts';
import type { Sink, TextPipe } from './scanner.ts';

const JSONISH = /^\s*[[{]/;

export function createSsePipe(redactor: Redactor, mode: 'redact' | 'block', onMatch: (rule: string) => void, maxEventBytes: number, json: JsonOptions = {}): TextPipe {
  const splitter = new SseSplitter();

  const event = (raw: string, sink: Sink): void => {
    const out = redactEvent(raw);
    if (out === raw) sink.copy(raw);
    else sink.replace(raw.length, out);
  };

  const redactEvent = (raw: string): string => {
    if (!redactor.mayMatch(raw, true)) return raw;
    const matches: string[] = [];
    const hit = (rule: string): void => {
      matches.push(rule);
      onMatch(rule);
    };
    // Secrets outside data (a comment, an id) are redacted as plain text.
    const lines: SseLine[] = parseEventLines(raw).map((l) => (l.field === 'data' || l.raw === '' ? l : { ...l, raw: redactor.redactLatin1(l.raw, false, hit).text }));
    const data = eventData(lines);
    let newData = data === undefined ? undefined : redactor.redactLatin1(data, JSONISH.test(data), hit, json).text;
    if (matches.length === 0) return raw;
    if (mode === 'block') newData = Buffer.from(blockedRpcError(Buffer.from(data ?? '', 'latin1').toString('utf8'), matches), 'utf8').toString('latin1');
    return newData === undefined ? lines.map((l) => l.raw + l.eol).join('') : replaceEventData(lines, newData);
  };

  return {
    push(text: string, sink: Sink): void {
      for (const raw of splitter.push(text)) event(raw, sink);
      if (splitter.pending > maxEventBytes) throw new WardenError(ERR.DLP_BLOCKED, 502, `SSE event larger than ${maxEventBytes} bytes: cannot be scanned`);
    },
    end(sink: Sink): void {
      const rest = splitter.rest();
      if (rest !== '') event(rest, sink);
    },
  };
}
