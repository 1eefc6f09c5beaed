/**
 * The chunk-safe scanning core. Text is a latin1 string (one char per body byte), so a chunk can
 * split a UTF-8 sequence anywhere without changing what the regexes see.
 *
 * Semantics (the same for a whole text and for every split of it into chunks): from the resume
 * position, take the leftmost match over all rules (ties: the longer, then the earlier rule),
 * replace it, resume after it. A match starting at s is decided once the buffer reaches
 * s + longest match + CONTEXT: every quantifier is bounded, so no later byte can change it. Text
 * before the earliest undecided start is emitted; the rest (at most `holdBack` chars) waits.
 *
 * Speed: one pass of a single regex made of every rule's literal anchors lists where anchors occur;
 * a rule is only run there, as a sticky regex at the anchor (or at the few starts before it that
 * anchorOffset allows). Rules without anchors (custom ones) scan fully.
 *
 * JSON mode keeps JSON valid: a match never starts or ends inside a `\` escape (it is shrunk at
 * the start, extended at the end), stops at the end of the string it starts in, and a match
 * outside any string (a number) is replaced by a quoted string.
 */

const IN_STRING = /["\\]/g;
const OUTSIDE = /"/g;

/** Characters kept on each side of a match for lookbehind / lookahead / JSON escapes. */
export const CONTEXT = 72;

export interface CompiledRule {
  readonly name: string;
  /** Sticky (y) when the rule has anchors, global (g) otherwise. */
  readonly re: RegExp;
  readonly anchors: readonly string[];
  readonly anchorOffset: number;
  readonly maxLength: number;
  /** The replacement as latin1 (UTF-8 bytes), plain. */
  readonly replace: string;
  /** The replacement escaped for the inside of a JSON string. */
  readonly replaceInString: string;
  /** The replacement as a JSON string literal (for a match outside strings). */
  readonly replaceQuoted: string;
}

/**
 * Where scanned text goes: `copy` passes input through unchanged, `replace` stands for `consumed`
 * input chars. A byte sink (transform.ts) copies the original bytes without re-encoding them.
 */
export interface Sink {
  copy(text: string): void;
  replace(consumed: number, text: string): void;
}

/** A sink that builds a string. */
export class StringSink implements Sink {
  out = '';
  copy(text: string): void {
    this.out += text;
  }
  replace(_consumed: number, text: string): void {
    this.out += text;
  }
}

interface Hit {
  s: number;
  e: number;
  rule: number;
  /** JSON mode: the match lies inside a string. */
  inStr?: boolean;
}

/** The anchors of a rule set, found in one pass. Built once per redactor. */
export class AnchorIndex {
  /** Global regex of every anchor, longest first (so the longest anchor at a position wins). */
  readonly re: RegExp;
  /** Anchor text -> ids of every anchor that is a prefix of it (itself included). */
  readonly prefixes: ReadonlyMap<string, readonly number[]>;
  /** Per rule: which anchor ids it uses. */
  readonly ruleMask: readonly Uint8Array[];
  readonly size: number;

  constructor(rules: readonly CompiledRule[]) {
    const anchors = [...new Set(rules.flatMap((r) => r.anchors))].sort((a, b) => b.length - a.length);
    const id = new Map(anchors.map((a, i) => [a, i]));
    this.size = anchors.length;
    this.re = new RegExp(anchors.length ? anchors.map((a) => a.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|') : '(?!)', 'g');
    this.prefixes = new Map(anchors.map((a) => [a, anchors.filter((b) => a.startsWith(b)).map((b) => id.get(b)!)]));
    this.ruleMask = rules.map((r) => {
      const m = new Uint8Array(anchors.length);
      for (const a of r.anchors) m[id.get(a)!] = 1;
      return m;
    });
  }
}

export class StreamScanner {
  readonly #rules: readonly CompiledRule[];
  readonly #json: boolean;
  readonly #decideAt: number;
  readonly #onMatch: (rule: string) => void;
  #buf = '';
  #bufStart = 0;
  #pos = 0;
  // Per-run caches (the buffer changes between runs).
  #cache: (Hit | null | undefined)[] = [];
  #cacheFrom: number[] = [];
  // JSON string state at #tAt.
  #tAt = 0;
  #inStr = false;
  /** 0: not in an escape; -1: just after a backslash; n > 0: n hex digits of \uXXXX left. */
  #esc = 0;

  readonly #index: AnchorIndex;
  #hitPos: number[] = [];
  #hitId: number[] = [];
  #cursor: number[] = [];

  constructor(rules: readonly CompiledRule[], index: AnchorIndex, json: boolean, decideAt: number, onMatch: (rule: string) => void) {
    this.#rules = rules;
    this.#index = index;
    this.#json = json;
    this.#decideAt = decideAt;
    this.#onMatch = onMatch;
  }

  /** Feed latin1 text; what is now safe to emit goes to the sink. */
  push(text: string, sink: Sink): void {
    this.#buf += text;
    const bufEnd = this.#bufStart + this.#buf.length;
    // Run only once at least decideAt chars are decidable: each run rescans the held text, so this
    // keeps the cost per input char constant (and bounds the hold-back by 2 * decideAt).
    if (bufEnd - this.#decideAt - this.#pos < this.#decideAt) return;
    this.#run(bufEnd - this.#decideAt, sink);
  }

  /** End of input: everything left, scanned. */
  end(sink: Sink): void {
    this.#run(this.#bufStart + this.#buf.length, sink);
  }

  #run(safe: number, sink: Sink): void {
    this.#cache = new Array(this.#rules.length);
    this.#cacheFrom = new Array(this.#rules.length);
    this.#collectHits();
    for (;;) {
      const m = this.#next(this.#pos, safe);
      if (!m) break;
      const rule = this.#rules[m.rule]!;
      if (m.s > this.#pos) sink.copy(this.#slice(this.#pos, m.s));
      sink.replace(m.e - m.s, this.#json ? (m.inStr ? rule.replaceInString : rule.replaceQuoted) : rule.replace);
      this.#pos = m.e;
      this.#onMatch(rule.name);
    }
    if (safe > this.#pos) {
      sink.copy(this.#slice(this.#pos, safe));
      if (this.#json) this.#advance(safe);
      this.#pos = safe;
    }
    const keep = Math.max(this.#bufStart, this.#pos - CONTEXT);
    this.#buf = this.#buf.slice(keep - this.#bufStart);
    this.#bufStart = keep;
  }

  #slice(from: number, to: number): string {
    return this.#buf.slice(from - this.#bufStart, to - this.#bufStart);
  }

  /** The leftmost accepted match starting in [from, limit], or null. */
  #next(from: number, limit: number): Hit | null {
    for (;;) {
      let best: Hit | null = null;
      for (let i = 0; i < this.#rules.length; i++) {
        const c = this.#candidate(i, from, limit);
        if (c && (!best || c.s < best.s || (c.s === best.s && c.e > best.e))) best = c;
      }
      if (!best || !this.#json) return best;
      const g = this.#guard(best);
      if (g) return g;
      from = best.s + 1;
    }
  }

  #candidate(i: number, from: number, limit: number): Hit | null {
    const cached = this.#cache[i];
    if (cached !== undefined && this.#cacheFrom[i]! <= from && (cached === null || cached.s >= from)) return cached;
    const found = this.#search(i, from, limit);
    this.#cache[i] = found;
    this.#cacheFrom[i] = from;
    return found;
  }

  #search(i: number, from: number, limit: number): Hit | null {
    const r = this.#rules[i]!;
    const buf = this.#buf;
    const base = this.#bufStart;
    if (r.anchors.length === 0) {
      r.re.lastIndex = from - base;
      for (;;) {
        const m = r.re.exec(buf);
        if (!m || base + m.index > limit) return null;
        if (m[0].length > 0) return { s: base + m.index, e: base + m.index + m[0].length, rule: i };
        r.re.lastIndex = m.index + 1;
      }
    }
    let h = from;
    for (;;) {
      const hit = this.#nextAnchor(i, h);
      if (hit < 0 || hit > limit + r.anchorOffset) return null;
      // Sticky: the match contains this anchor, so it starts in [hit - anchorOffset, hit]; try
      // those starts in order (the first that matches is the leftmost).
      for (let st = Math.max(from, hit - r.anchorOffset); st <= hit && st <= limit; st++) {
        r.re.lastIndex = st - base;
        const m = r.re.exec(buf);
        if (m && m[0].length > 0) return { s: st, e: st + m[0].length, rule: i };
      }
      h = hit + 1;
    }
  }

  /** Every anchor occurrence from the resume position on (overlapping ones too), in order. */
  #collectHits(): void {
    const pos: number[] = [];
    const ids: number[] = [];
    const re = this.#index.re;
    const buf = this.#buf;
    re.lastIndex = this.#pos - this.#bufStart;
    for (let m = re.exec(buf); m; m = re.exec(buf)) {
      for (const id of this.#index.prefixes.get(m[0])!) {
        pos.push(this.#bufStart + m.index);
        ids.push(id);
      }
      re.lastIndex = m.index + 1;
    }
    this.#hitPos = pos;
    this.#hitId = ids;
    this.#cursor = new Array<number>(this.#rules.length).fill(0);
  }

  /** The first anchor of rule i at index >= from, or -1. `from` only grows within a run. */
  #nextAnchor(i: number, from: number): number {
    const mask = this.#index.ruleMask[i]!;
    const pos = this.#hitPos;
    const ids = this.#hitId;
    let k = this.#cursor[i]!;
    while (k < pos.length && (pos[k]! < from || mask[ids[k]!] === 0)) k++;
    this.#cursor[i] = k;
    return k < pos.length ? pos[k]! : -1;
  }

  // ---- JSON string tracking (forward only) ----

  #step(): void {
    const c = this.#buf.charCodeAt(this.#tAt - this.#bufStart);
    this.#tAt++;
    if (this.#esc > 0) this.#esc--;
    else if (this.#esc === -1) this.#esc = c === 117 /* u */ ? 4 : 0;
    else if (this.#inStr) {
      if (c === 92 /* \ */) this.#esc = -1;
      else if (c === 34 /* " */) this.#inStr = false;
    } else if (c === 34) this.#inStr = true;
  }

  #advance(to: number): void {
    while (this.#tAt < to) {
      if (this.#esc !== 0) {
        this.#step();
        continue;
      }
      // Jump to the next character that can change the state: a quote, or a backslash in a string.
      const re = this.#inStr ? IN_STRING : OUTSIDE;
      re.lastIndex = this.#tAt - this.#bufStart;
      const m = re.exec(this.#buf);
      const next = m ? this.#bufStart + m.index : Infinity;
      if (next >= to) {
        this.#tAt = to;
        return;
      }
      this.#tAt = next;
      this.#step();
    }
  }

  /** Adjust a candidate to JSON: returns the accepted span, or null to try from s + 1. */
  #guard(c: Hit): Hit | null {
    let s = Math.max(c.s, this.#tAt);
    this.#advance(s);
    let e = c.e;
    while (s < e && this.#esc !== 0) {
      this.#step();
      s++;
    }
    if (s >= e) return null;
    const inside = this.#inStr;
    const bufEnd = this.#bufStart + this.#buf.length;
    while (this.#tAt < e) {
      const q = this.#tAt;
      const isQuote = this.#esc === 0 && this.#buf.charCodeAt(q - this.#bufStart) === 34;
      if (isQuote) {
        e = q; // the string (or the outside run) ends here: stop before the quote
        break;
      }
      this.#step();
    }
    while (this.#esc !== 0 && this.#tAt < bufEnd) this.#step();
    if (this.#tAt > e) e = this.#tAt;
    if (e <= s) return null;
    return { s, e, rule: c.rule, inStr: inside };
  }
}
