/**
 * JSON escapes must not hide a secret: `"\u0041KIA..."` is the string `AKIA...` to every JSON parser
 * behind or in front of the sidecar, and `"hooks.slack.com\/services\/..."` is a Slack webhook URL.
 * In JSON mode the scanner therefore reads a decoded view of the body's strings, and what it decides
 * is applied to the original bytes:
 *
 * - inside strings, `\/`, `\b`, `\f`, `\n`, `\r`, `\t` and `\uXXXX` of an ASCII character other than
 *   `"` and `\` are read as the character they stand for;
 * - `\"`, `\\` and `\u` escapes of other characters stay as they are (the scanner keeps track of
 *   strings through them; no rule matches across them);
 * - a replacement covers the escapes it spans and is written JSON-escaped, so the output stays
 *   valid JSON; text nothing matched leaves as the original bytes, escapes included.
 *
 * Each decoded character stands for one whole escape, so no boundary the scanner chooses can fall
 * inside an escape. An escape cut by a chunk boundary waits (at most 5 chars) for the rest.
 */
import type { Sink, TextPipe } from './scanner.ts';

const SIMPLE: Readonly<Record<string, string>> = { '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const HEX4 = /^[0-9A-Fa-f]{4}$/;
const IN_STRING = /["\\]/g;
const OUTSIDE = /"/g;

/** Feeds a scanner the decoded view of latin1 JSON text and maps its decisions back to the raw text. */
export class JsonView implements TextPipe {
  readonly #scanner: TextPipe;
  /** Raw text not yet accounted for by the sink (starts at #rawPos). */
  #raw = '';
  /** Raw text waiting for the rest of an escape, not yet given to the scanner. */
  #pending = '';
  #inStr = false;
  /** View positions (absolute) of decoded escapes not yet consumed, with their raw lengths. */
  readonly #escAt: number[] = [];
  readonly #escLen: number[] = [];
  #escHead = 0;
  /** View chars given to the scanner so far, and consumed by the sink. */
  #viewEnd = 0;
  #viewPos = 0;
  readonly #adapter: Sink;
  #sink: Sink | undefined;

  constructor(scanner: TextPipe) {
    this.#scanner = scanner;
    this.#adapter = {
      copy: (text: string): void => {
        const n = this.#take(text.length);
        this.#sink!.copy(this.#raw.slice(0, n));
        this.#raw = this.#raw.slice(n);
      },
      replace: (consumed: number, text: string): void => {
        const n = this.#take(consumed);
        this.#raw = this.#raw.slice(n);
        this.#sink!.replace(n, text);
      },
    };
  }

  /** Raw length of the next `n` view chars, advancing the cursor. */
  #take(n: number): number {
    const to = this.#viewPos + n;
    let raw = n;
    while (this.#escHead < this.#escAt.length && this.#escAt[this.#escHead]! < to) {
      raw += this.#escLen[this.#escHead]! - 1;
      this.#escHead++;
    }
    if (this.#escHead > 1024 && this.#escHead * 2 > this.#escAt.length) {
      this.#escAt.splice(0, this.#escHead);
      this.#escLen.splice(0, this.#escHead);
      this.#escHead = 0;
    }
    this.#viewPos = to;
    return raw;
  }

  /** Decode raw text into view text; an escape cut at the end stays in #pending. */
  #decode(text: string, final: boolean): string {
    const s = this.#pending + text;
    this.#pending = '';
    let out = '';
    let from = 0;
    let i = 0;
    while (i < s.length) {
      // Jump to the next character that matters: a quote outside strings, a quote or a backslash in one.
      const re = this.#inStr ? IN_STRING : OUTSIDE;
      re.lastIndex = i;
      const m = re.exec(s);
      if (m === null) {
        i = s.length;
        break;
      }
      i = m.index;
      if (s.charCodeAt(i) === 34) {
        this.#inStr = !this.#inStr;
        i++;
        continue;
      }
      // A backslash in a string: an escape of 2 or 6 chars.
      if (i + 1 >= s.length) break;
      const e = s[i + 1]!;
      let decoded: string | undefined;
      let len = 2;
      if (e === 'u') {
        if (i + 6 > s.length) break;
        len = 6;
        const hex = s.slice(i + 2, i + 6);
        if (HEX4.test(hex)) {
          const cp = parseInt(hex, 16);
          if (cp < 0x80 && cp !== 0x22 && cp !== 0x5c) decoded = String.fromCharCode(cp);
        }
      } else decoded = SIMPLE[e];
      if (decoded !== undefined) {
        out += s.slice(from, i);
        this.#escAt.push(this.#viewEnd + out.length);
        this.#escLen.push(len);
        out += decoded;
        from = i + len;
      }
      i += len;
    }
    if (i < s.length && !final) {
      out += s.slice(from, i);
      this.#pending = s.slice(i);
    } else out += s.slice(from);
    this.#viewEnd += out.length;
    return out;
  }

  push(text: string, sink: Sink): void {
    this.#sink = sink;
    // #raw holds everything not yet consumed, #pending included; the scanner sees only the view.
    this.#raw += text;
    const view = this.#decode(text, false);
    if (view !== '') this.#scanner.push(view, this.#adapter);
  }

  end(sink: Sink): void {
    this.#sink = sink;
    const view = this.#decode('', true);
    if (view !== '') this.#scanner.push(view, this.#adapter);
    this.#scanner.end(this.#adapter);
  }
}
