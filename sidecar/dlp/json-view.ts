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
 *
 * Opaque fields (given as paths, see mcp/opaque-fields.ts): the view also follows the document's
 * structure (objects, arrays, member keys) and shows the value of a member at such a path as MASK
 * characters, each standing for a run of the value's raw text, so no rule can match in it; the
 * scanner refuses any match that would cover a MASK (scanner.ts). The value leaves byte for byte.
 * Paths are relative to a message: the top-level object, or each object of a top-level array.
 */
import { MASK } from './mask.ts';
import type { Sink, TextPipe } from './scanner.ts';

/** The one-character escapes a JSON string may hold besides `\"` and `\\`, and what each stands for. */
export const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const HEX4 = /^[0-9A-Fa-f]{4}$/;
const IN_STRING = /["\\]/g;
const OUTSIDE = /"/g;
/** Outside strings, with structure followed: quotes and the structural characters. */
const STRUCTURE = /["{}[\]:,]/g;
/** Where an opaque literal (a number, true, false, null) ends. */
const LITERAL_END = /[\s,}\]"{[:]/g;
const WS = /[^ \t\r\n]/g;

/** A tree of opaque paths: each node's children by member key; `leaf` marks an opaque value. */
export interface FieldTree {
  readonly leaf: boolean;
  readonly children: ReadonlyMap<string, FieldTree>;
}

/** Compile paths (each a list of member keys) into a FieldTree, once. */
export function fieldTree(paths: readonly (readonly string[])[]): FieldTree {
  type Node = { leaf: boolean; children: Map<string, Node> };
  const root: Node = { leaf: false, children: new Map() };
  for (const path of paths) {
    let n = root;
    for (const k of path) {
      let c = n.children.get(k);
      if (c === undefined) n.children.set(k, (c = { leaf: false, children: new Map() }));
      n = c;
    }
    n.leaf = true;
  }
  return root;
}

/** Longer member keys than this are never opaque (a bound on what a key costs to remember). */
const MAX_KEY = 256;
/** Containers deeper than this are counted, not followed (no opaque path is that deep). */
const MAX_DEPTH = 64;

interface Frame {
  readonly arr: boolean;
  /** For objects: the tree node of this object's members (undefined: nothing opaque below). */
  readonly node: FieldTree | undefined;
  /** The top-level array of a batch: its objects are messages. */
  readonly batch: boolean;
  /** Objects: a string now is a member key. */
  expectKey: boolean;
  /** Objects: the current member's key (decoded view text), once read. */
  key: string;
}

/** Feeds a scanner the decoded view of latin1 JSON text and maps its decisions back to the raw text. */
export class JsonView implements TextPipe {
  readonly #scanner: TextPipe;
  readonly #tree: FieldTree | undefined;
  /** Raw text not yet accounted for by the sink (starts at #rawPos). */
  #raw = '';
  /** Raw text waiting for the rest of an escape, not yet given to the scanner. */
  #pending = '';
  #inStr = false;
  /** View positions (absolute) of decoded escapes and masks not yet consumed, with their raw lengths. */
  readonly #escAt: number[] = [];
  readonly #escLen: number[] = [];
  #escHead = 0;
  /** View chars given to the scanner so far, and consumed by the sink. */
  #viewEnd = 0;
  #viewPos = 0;
  readonly #adapter: Sink;
  #sink: Sink | undefined;

  // Structure (only with a tree).
  readonly #stack: Frame[] = [];
  /** Containers past MAX_DEPTH, counted so closing brackets stay balanced. */
  #deep = 0;
  /** The string being read is a member key. */
  #inKey = false;
  /** The raw text of the key being read (decoded when it ends), then the key. */
  #keyRaw = '';
  #key = '';
  /** After `:` of a member at an opaque path: the next value is masked. */
  #opaqueNext = false;
  /** The tree node of the member whose value comes next (after `:`), for an object value. */
  #valueNode: FieldTree | undefined;
  #opaqueStr = false;
  /** In an opaque string, the last raw char was a backslash: the next one is escaped. */
  #opaqueEsc = false;
  #opaqueLit = false;

  constructor(scanner: TextPipe, opaque?: FieldTree) {
    this.#scanner = scanner;
    this.#tree = opaque;
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

  #top(): Frame | undefined {
    return this.#deep > 0 ? undefined : this.#stack[this.#stack.length - 1];
  }

  #open(arr: boolean): void {
    const top = this.#top();
    if (this.#deep > 0 || this.#stack.length >= MAX_DEPTH) {
      this.#deep++;
      return;
    }
    // A message: the top-level object, or an object in the top-level array (a batch).
    const node = arr ? undefined : top === undefined || top.batch ? this.#tree : top.arr ? undefined : this.#valueNode;
    this.#stack.push({ arr, node: node?.leaf ? undefined : node, batch: arr && top === undefined, expectKey: !arr, key: '' });
    this.#valueNode = undefined;
  }

  #close(): void {
    if (this.#deep > 0) this.#deep--;
    else this.#stack.pop();
  }

  /** Decode raw text into view text; an escape cut at the end stays in #pending. */
  #decode(text: string, final: boolean): string {
    const s = this.#pending + text;
    this.#pending = '';
    const tree = this.#tree !== undefined;
    let out = '';
    let from = 0;
    let i = 0;
    /** Where the raw text of the key being read starts in `s` (kept in #keyRaw across texts). */
    let keyFrom = 0;
    const flush = (to: number): void => {
      out += s.slice(from, to);
      from = to;
    };
    /** The raw text from `from` to `to` as one MASK. */
    const mask = (to: number): void => {
      if (to <= from) return;
      this.#escAt.push(this.#viewEnd + out.length);
      this.#escLen.push(to - from);
      out += MASK;
      from = to;
    };
    while (i < s.length) {
      if (this.#opaqueStr) {
        let j = i;
        if (this.#opaqueEsc) {
          this.#opaqueEsc = false;
          j++;
        }
        let closed = false;
        while (j < s.length) {
          IN_STRING.lastIndex = j;
          const m = IN_STRING.exec(s);
          if (m === null) {
            j = s.length;
            break;
          }
          j = m.index;
          if (s.charCodeAt(j) === 34) {
            closed = true;
            break;
          }
          if (j + 1 >= s.length) {
            this.#opaqueEsc = true;
            j = s.length;
            break;
          }
          j += 2;
        }
        mask(Math.min(j, s.length));
        if (!closed) {
          i = s.length;
          break;
        }
        this.#opaqueStr = false;
        this.#inStr = false;
        i = j + 1;
        continue;
      }
      if (this.#opaqueLit) {
        LITERAL_END.lastIndex = i;
        const m = LITERAL_END.exec(s);
        const j = m === null ? s.length : m.index;
        mask(j);
        if (m === null) {
          i = s.length;
          break;
        }
        this.#opaqueLit = false;
        i = j;
        continue;
      }
      if (this.#opaqueNext && !this.#inStr) {
        WS.lastIndex = i;
        const m = WS.exec(s);
        if (m === null) {
          i = s.length;
          break;
        }
        i = m.index;
        this.#opaqueNext = false;
        const c = s.charCodeAt(i);
        if (c === 34) {
          // The opening quote stays in the view (the scanner tracks strings); the content is masked.
          this.#inStr = true;
          this.#opaqueStr = true;
          i++;
          flush(i);
        } else if (c !== 123 && c !== 91) {
          this.#opaqueLit = true;
          flush(i);
        }
        continue;
      }
      // Jump to the next character that matters: a quote (or, following structure, a bracket, a
      // colon, a comma) outside strings; a quote or a backslash in one.
      const re = this.#inStr ? IN_STRING : tree ? STRUCTURE : OUTSIDE;
      re.lastIndex = i;
      const m = re.exec(s);
      if (m === null) {
        i = s.length;
        break;
      }
      i = m.index;
      const ch = s.charCodeAt(i);
      if (ch === 34) {
        if (this.#inStr) {
          this.#inStr = false;
          if (this.#inKey) this.#endKey(s.slice(keyFrom, i));
        } else {
          this.#inStr = true;
          const top = tree ? this.#top() : undefined;
          if (top !== undefined && !top.arr && top.expectKey) {
            this.#inKey = true;
            this.#keyRaw = '';
            keyFrom = i + 1;
          }
        }
        i++;
        continue;
      }
      if (!this.#inStr) {
        // Structure (only reached with a tree).
        const top = this.#top();
        if (ch === 123) this.#open(false);
        else if (ch === 91) this.#open(true);
        else if (ch === 125 || ch === 93) this.#close();
        else if (ch === 58) {
          if (top !== undefined && !top.arr) {
            const child = top.node?.children.get(this.#key);
            this.#valueNode = child;
            if (child?.leaf === true) this.#opaqueNext = true;
          }
        } else if (ch === 44 && top !== undefined && !top.arr) {
          top.expectKey = true;
          this.#key = '';
        }
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
      } else decoded = SIMPLE_ESCAPES[e];
      if (decoded !== undefined) {
        out += s.slice(from, i);
        this.#escAt.push(this.#viewEnd + out.length);
        this.#escLen.push(len);
        out += decoded;
        from = i + len;
      }
      i += len;
    }
    const consumed = i < s.length && !final ? i : s.length;
    if (consumed < s.length) {
      out += s.slice(from, i);
      this.#pending = s.slice(i);
    } else out += s.slice(from);
    // A key still being read continues in the next text (a cut escape comes again with #pending).
    if (this.#inKey) this.#addKey(s.slice(keyFrom, consumed));
    this.#viewEnd += out.length;
    return out;
  }

  #addKey(raw: string): void {
    if (this.#keyRaw.length <= MAX_KEY) this.#keyRaw += raw;
  }

  /** The key ends: decoded as every JSON parser reads it (escapes included), or never opaque. */
  #endKey(raw: string): void {
    this.#addKey(raw);
    this.#inKey = false;
    const top = this.#top();
    if (top !== undefined) top.expectKey = false;
    let key = MASK;
    if (this.#keyRaw.length <= MAX_KEY) {
      try {
        key = this.#keyRaw.includes('\\') ? (JSON.parse(`"${this.#keyRaw}"`) as string) : this.#keyRaw;
      } catch {
        // not a valid JSON string: no path matches it
      }
    }
    this.#key = key;
    this.#keyRaw = '';
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
