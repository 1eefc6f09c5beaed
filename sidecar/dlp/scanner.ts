/**
 * The chunk-safe scanning core. Text is a latin1 string (one char per body byte), so a chunk can
 * split a UTF-8 sequence anywhere without changing what the regexes see.
 *
 * Semantics (the same for a whole text and for every split of it into chunks): from the resume
 * position, take the leftmost match over all rules (ties: the longer, then the earlier rule),
 * replace it, resume after it. Text before the earliest undecided start is emitted; the rest waits.
 * Whether rule r can still match at a start s is decided as soon as one of these holds:
 * - the buffer reaches s + r's longest match + CONTEXT: every quantifier is bounded, so no later
 *   byte can change it;
 * - no anchor of r lies where a match at s would need one (within anchorOffset of s): none in the
 *   buffer, and the buffer's tail (at most the anchor's length, plus the rule's lead characters for
 *   rules whose anchor is not at the start, such as an email's local part before the `@`) cannot
 *   be the beginning of one.
 * So text with no anchor in it leaves at once but for a few characters at its end, and only a
 * possible secret is held until it is decided (at most `holdBack` chars; rules without anchors,
 * custom ones, hold their longest match plus CONTEXT).
 *
 * Speed: one pass of a single regex made of every rule's literal anchors lists where anchors occur;
 * a rule is only run there, as a sticky regex at the anchor (or at the few starts before it that
 * anchorOffset allows). Rules without anchors (custom ones) scan fully.
 *
 * JSON mode keeps JSON valid: a match never starts or ends inside a `\` escape (it is shrunk at
 * the start, extended at the end), stops at the end of the string it starts in, and a match
 * outside any string (a number) is replaced by a quoted string. A match that would cover a MASK
 * (a protocol-opaque value, see json-view.ts) is not taken: opaque values leave unchanged.
 */
import { MASK } from './mask.ts';

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
  /** For anchorOffset > 0: the characters a match can hold before its anchor (else any). */
  readonly lead: RegExp | undefined;
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

/** Text in (latin1, one char per byte), scanned text out to a sink: a scanner, or a stage around one. */
export interface TextPipe {
  push(text: string, sink: Sink): void;
  end(sink: Sink): void;
}

/** A sink that builds a string. */
export class StringSink implements Sink {
  out = '';
  /** Whether anything was replaced (else `out` equals the input). */
  replaced = false;
  copy(text: string): void {
    this.out += text;
  }
  replace(_consumed: number, text: string): void {
    this.replaced = true;
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
  /** Per anchor id: the rules that use it. */
  readonly rulesOf: readonly (readonly number[])[];
  /** Every proper, non-empty prefix of an anchor (a buffer ending in one may be cut mid-anchor). */
  readonly partials: ReadonlySet<string>;
  readonly longestAnchor: number;
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
    this.rulesOf = anchors.map((_, i) => rules.flatMap((_r, ri) => (this.ruleMask[ri]![i] === 1 ? [ri] : [])));
    this.partials = new Set(anchors.flatMap((a) => Array.from({ length: a.length - 1 }, (_, k) => a.slice(0, k + 1))));
    this.longestAnchor = anchors[0]?.length ?? 0;
  }
}

/** Held text up to which every push rescans; above it, a rescan waits for half as much again. */
export const SMALL_HOLD = 128;

export class StreamScanner implements TextPipe {
  readonly #rules: readonly CompiledRule[];
  readonly #json: boolean;
  readonly #maxOffset: number;
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
  /** Buffer end at the last run: a large hold is rescanned only after it grew by half. */
  #ranAt = 0;

  constructor(rules: readonly CompiledRule[], index: AnchorIndex, json: boolean, onMatch: (rule: string) => void) {
    this.#rules = rules;
    this.#index = index;
    this.#json = json;
    this.#onMatch = onMatch;
    this.#maxOffset = Math.max(0, ...rules.map((r) => r.anchorOffset));
  }

  /** Feed latin1 text; what is now safe to emit goes to the sink. */
  push(text: string, sink: Sink): void {
    this.#buf += text;
    const bufEnd = this.#bufStart + this.#buf.length;
    // Each run rescans the held text: a small hold is rescanned on every push (so text leaves as
    // soon as it is decided), a large one (a possible token being decided) only after it grew by
    // half, which keeps the cost per input char constant.
    const held = bufEnd - this.#pos;
    if (held > SMALL_HOLD && bufEnd - this.#ranAt < held / 2) return;
    this.#run(false, sink);
  }

  /** End of input: everything left, scanned. */
  end(sink: Sink): void {
    this.#run(true, sink);
  }

  /**
   * The earliest start not yet decided (see the module comment); every start before it is final.
   * Uses the anchor occurrences #collectHits found from the resume position on.
   */
  #safePoint(): number {
    const bufEnd = this.#bufStart + this.#buf.length;
    const index = this.#index;
    let safe = bufEnd;
    const rules = this.#rules;
    // Rules without anchors: only length decides.
    for (const r of rules) if (r.anchors.length === 0) safe = Math.min(safe, bufEnd - r.maxLength - CONTEXT + 1);
    // An anchor already in the buffer: its rule's starts around it wait for the rule's longest match.
    const found = new Uint8Array(rules.length);
    const pos = this.#hitPos;
    const ids = this.#hitId;
    for (let k = 0; k < pos.length; k++) {
      const a = pos[k]!;
      if (a - this.#maxOffset >= safe) break;
      for (const ri of index.rulesOf[ids[k]!]!) {
        if (found[ri] === 1) continue;
        const r = rules[ri]!;
        const undecidedFrom = bufEnd - r.maxLength - CONTEXT + 1;
        if (a < undecidedFrom) continue;
        found[ri] = 1;
        safe = Math.min(safe, Math.max(a - r.anchorOffset, undecidedFrom));
      }
    }
    // An anchor that may still be completing at the end of the buffer, or not begun yet.
    const buf = this.#buf;
    let tail = buf.length;
    for (let k = Math.min(index.longestAnchor - 1, buf.length); k >= 1; k--) {
      if (index.partials.has(buf.slice(buf.length - k))) {
        tail = buf.length - k;
        break;
      }
    }
    let start = this.#bufStart + tail;
    for (const r of rules) {
      if (r.anchors.length === 0 || r.anchorOffset === 0) continue;
      // The match may start up to anchorOffset before its anchor, over its lead characters only.
      let t = tail;
      while (t > 0 && tail - t < r.anchorOffset && (r.lead === undefined || r.lead.test(buf[t - 1]!))) t--;
      start = Math.min(start, this.#bufStart + t);
    }
    return Math.max(this.#pos, Math.min(safe, start));
  }

  #run(final: boolean, sink: Sink): void {
    this.#cache = new Array(this.#rules.length);
    this.#cacheFrom = new Array(this.#rules.length);
    this.#collectHits();
    const bufEnd = this.#bufStart + this.#buf.length;
    this.#ranAt = bufEnd;
    // Starts up to `limit` are decided: at the end of input all are.
    const safe = final ? bufEnd : this.#safePoint();
    const limit = final ? bufEnd : safe - 1;
    for (;;) {
      const m = this.#next(this.#pos, limit);
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
      if (g && !this.#slice(g.s, g.e).includes(MASK)) return g;
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
