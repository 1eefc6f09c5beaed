/**
 * Server-Sent Events framing, shared by everything that rewrites an SSE response (DLP redaction,
 * tools/list filtering). The WHATWG HTML "event stream" grammar: lines end in CRLF, LF or CR; an
 * event ends at an empty line. The splitter keeps every byte of the framing (field order, `event:`,
 * `id:`, `retry:`, comments, the exact line endings) so a stage that leaves an event alone passes it
 * through byte for byte, and one that rewrites `data:` keeps everything else.
 */

const EOL = /[\r\n]/g;

/** Splits decoded text into complete raw events; each returned event includes its terminating blank line. */
export class SseSplitter {
  #buf = '';
  /** Where to resume scanning (everything before it has been looked at). */
  #scan = 0;
  /** Where the current, unfinished line starts. */
  #lineStart = 0;

  /** Feed text; returns the events completed by it, in order. */
  push(text: string): string[] {
    this.#buf += text;
    const out: string[] = [];
    let start = 0;
    let i = this.#scan;
    let lineStart = this.#lineStart;
    const b = this.#buf;
    while (i < b.length) {
      const c = b.charCodeAt(i);
      if (c !== 10 && c !== 13) {
        // Jump to the next line ending with a native search: JSON-RPC data lines are long, and a
        // char-by-char loop was the slowest part of DLP on SSE (bench/dlp.bench.ts).
        EOL.lastIndex = i;
        i = EOL.exec(b)?.index ?? b.length;
        continue;
      }
      // A CR at the very end may be the first half of CRLF: decide when more text arrives.
      if (c === 13 && i + 1 === b.length) break;
      const end = c === 13 && b.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
      if (i === lineStart) {
        // An empty line: the event (possibly empty, e.g. a stray blank line) ends here.
        out.push(b.slice(start, end));
        start = end;
      }
      i = end;
      lineStart = end;
    }
    this.#buf = b.slice(start);
    this.#scan = i - start;
    this.#lineStart = lineStart - start;
    return out;
  }

  /** Text held back: an incomplete event. At end of stream it is passed on as it is. */
  rest(): string {
    const r = this.#buf;
    this.#buf = '';
    this.#scan = 0;
    this.#lineStart = 0;
    return r;
  }

  /** Characters currently held back. */
  get pending(): number {
    return this.#buf.length;
  }
}

export interface SseLine {
  /** Field name ('' for a comment line that starts with ':'). */
  readonly field: string;
  /** Field value with the single optional leading space removed. */
  readonly value: string;
  /** The whole line as received, without its line ending. */
  readonly raw: string;
  /** The line ending as received ('\r\n', '\n', '\r', or '' for the last line of an unterminated event). */
  readonly eol: string;
}

const LINE = /([^\r\n]*)(\r\n|\n|\r|$)/y;

/** Split one raw event into its lines (the terminating empty line included, with field ''). */
export function parseEventLines(raw: string): SseLine[] {
  const lines: SseLine[] = [];
  LINE.lastIndex = 0;
  while (LINE.lastIndex < raw.length) {
    const m = LINE.exec(raw);
    if (!m) break;
    const text = m[1] ?? '';
    const eol = m[2] ?? '';
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    lines.push({ field, value, raw: text, eol });
    if (eol === '') break;
  }
  return lines;
}

/** The event's data: its `data` lines joined with LF, or undefined when it has none. */
export function eventData(lines: readonly SseLine[]): string | undefined {
  let data: string | undefined;
  for (const l of lines) {
    if (l.field === 'data' && l.raw !== '') data = data === undefined ? l.value : `${data}\n${l.value}`;
  }
  return data;
}

/**
 * Rebuild an event with new data, keeping every non-data line and line ending where it was. The new
 * data's lines take the place of the first `data:` line; other `data:` lines are dropped. A data value
 * that contains line breaks becomes several `data:` lines, as the grammar requires.
 */
export function replaceEventData(lines: readonly SseLine[], data: string): string {
  let out = '';
  let placed = false;
  for (const l of lines) {
    if (l.field === 'data' && l.raw !== '') {
      if (!placed) {
        placed = true;
        const eol = l.eol || '\n';
        out += data.split(/\r\n|\n|\r/).map((d) => `data: ${d}`).join(eol) + l.eol;
      }
      continue;
    }
    out += l.raw + l.eol;
  }
  return out;
}
