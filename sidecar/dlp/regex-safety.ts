/**
 * Static analysis of a regular expression, for custom DLP patterns: its longest match (the stream
 * hold-back needs a bound) and whether it can backtrack catastrophically.
 *
 * Catastrophic backtracking needs a repetition whose body can be matched in more than one way at
 * the same place (Davis et al., "Testing Regex Generalizability And Its Implications", and the
 * classic `(a+)+`, `(a|a)*`, `(\w+\s?)+`). Two shapes are refused:
 *  - a variable repetition inside another repetition, where what the inner one can start with
 *    overlaps with what may follow it (another round of the outer body, or the rest of it);
 *  - an alternation under a repetition whose branches can start with the same character.
 * `([a-z]{1,63}\.){1,8}` passes: the `.` that follows the inner repetition cannot start it.
 * The analysis works on the 256 characters a latin1 string can hold (the scanner reads bytes).
 */

type Bits = Uint8Array; // 256 entries, 1 = the character is in the set

type Node =
  | { readonly t: 'set'; readonly bits: Bits }
  | { readonly t: 'seq'; readonly items: readonly Node[] }
  | { readonly t: 'alt'; readonly alts: readonly Node[] }
  | { readonly t: 'rep'; readonly min: number; readonly max: number; readonly body: Node; readonly at: number }
  | { readonly t: 'look'; readonly body: Node; readonly behind: boolean }
  | { readonly t: 'empty' };

export interface RegexAnalysis {
  /** Longest possible match (lookahead contents included); Infinity when unbounded. */
  readonly maxLength: number;
  /** Longest lookbehind; Infinity when unbounded. */
  readonly lookbehind: number;
  /** Why the pattern may backtrack catastrophically, or undefined when it is safe. */
  readonly catastrophic: string | undefined;
  /** One character from each character set of the pattern (for adversarial inputs). */
  readonly samples: readonly string[];
  /** Literal characters every match starts with ('' when none): usable as a scan anchor. */
  readonly literalPrefix: string;
}

/** Analyse a pattern that already compiles with `new RegExp(source, flags)`. Throws on backreferences. */
export function analyzeRegex(source: string, flags = 'u'): RegexAnalysis {
  const p = new Parser(source, flags);
  const root = p.parseAlt();
  let catastrophic: string | undefined;
  const report = (msg: string): void => {
    catastrophic ??= msg;
  };
  walk(root, new Uint8Array(256), false, report);
  const samples = new Set<string>();
  for (const bits of p.sets) {
    const c = bits.indexOf(1);
    if (c !== -1) samples.add(String.fromCharCode(c));
  }
  return { maxLength: maxLen(root), lookbehind: lookbehindLen(root), catastrophic, samples: [...samples], literalPrefix: literalPrefix(root) };
}

function literalPrefix(root: Node): string {
  const items = root.t === 'seq' ? root.items : [root];
  let out = '';
  for (const n of items) {
    if ((n.t === 'empty' || n.t === 'look') && out === '') continue; // zero-width at the start
    if (n.t !== 'set') break;
    const first = n.bits.indexOf(1);
    if (first === -1 || n.bits.indexOf(1, first + 1) !== -1) break;
    out += String.fromCharCode(first);
  }
  return out;
}

/**
 * The empirical half of the check. The static check refuses exponential shapes; what it lets
 * through can still be polynomial per start (`a{0,2000}a{0,2000}b`: about L^2/2 steps at each
 * position, so a body of `a`s stalls the stream). So: one sticky attempt at the start of strings
 * built from the pattern's own characters (each repeated, and pairs alternating), as long as the
 * longest match (at most 2048), each followed by a character it likely rejects; returns the
 * slowest attempt in milliseconds. A linear attempt costs microseconds, a quadratic one
 * milliseconds: the threshold sits between (patterns.ts). Only run at start, on operator patterns.
 */
export function slowestAttemptMs(source: string, flags: string, samples: readonly string[], maxLength: number, stopAboveMs = Infinity): number {
  const re = new RegExp(source, `${flags.replace(/[gy]/g, '')}y`);
  const size = Math.min(Number.isFinite(maxLength) ? maxLength + 8 : 2048, 2048);
  const units = samples.slice(0, 12);
  const inputs: string[] = [];
  for (const a of units) {
    inputs.push(a.repeat(size));
    for (const b of units) if (a !== b) inputs.push((a + b).repeat(Math.ceil(size / 2)));
  }
  let worst = 0;
  for (const base of inputs) {
    for (const tail of ['\u0000', '!', '']) {
      const text = base + tail;
      // Warm up (the first exec compiles the regex), then take the best of up to three attempts:
      // noise makes one attempt slow, a polynomial pattern makes every attempt slow.
      re.lastIndex = 0;
      re.exec(text.slice(0, 16));
      let best = Infinity;
      for (let k = 0; k < 3 && (k === 0 || best > stopAboveMs / 4); k++) {
        re.lastIndex = 0;
        const start = performance.now();
        re.exec(text);
        best = Math.min(best, performance.now() - start);
      }
      worst = Math.max(worst, best);
      if (worst > stopAboveMs) return worst;
    }
  }
  return worst;
}

class Parser {
  i = 0;
  readonly sets: Bits[] = [];
  readonly src: string;
  readonly flags: string;
  constructor(src: string, flags: string) {
    this.src = src;
    this.flags = flags.replace(/[gyd]/g, '');
  }

  parseAlt(): Node {
    const alts: Node[] = [this.parseSeq()];
    while (this.src[this.i] === '|') {
      this.i++;
      alts.push(this.parseSeq());
    }
    return alts.length === 1 ? alts[0]! : { t: 'alt', alts };
  }

  parseSeq(): Node {
    const items: Node[] = [];
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      const at = this.i;
      let atom = this.parseAtom();
      const q = this.parseQuantifier();
      if (q) atom = { t: 'rep', min: q[0], max: q[1], body: atom, at };
      items.push(atom);
    }
    return items.length === 1 ? items[0]! : { t: 'seq', items };
  }

  parseQuantifier(): [number, number] | undefined {
    const s = this.src;
    const c = s[this.i];
    let q: [number, number] | undefined;
    if (c === '*') q = [0, Infinity];
    else if (c === '+') q = [1, Infinity];
    else if (c === '?') q = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(this.i));
      if (!m) return undefined;
      const min = Number(m[1]);
      q = [min, m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3])];
      this.i += m[0].length - 1;
    }
    if (!q) return undefined;
    this.i++;
    if (s[this.i] === '?') this.i++; // lazy: same lengths, same ambiguity
    return q;
  }

  parseAtom(): Node {
    const s = this.src;
    const c = s[this.i]!;
    if (c === '(') {
      this.i++;
      let look: 'ahead' | 'behind' | undefined;
      if (s.startsWith('?:', this.i)) this.i += 2;
      else if (s.startsWith('?=', this.i) || s.startsWith('?!', this.i)) {
        this.i += 2;
        look = 'ahead';
      } else if (s.startsWith('?<=', this.i) || s.startsWith('?<!', this.i)) {
        this.i += 3;
        look = 'behind';
      }
      else if (s.startsWith('?<', this.i)) this.i = s.indexOf('>', this.i) + 1;
      else if (s[this.i] === '?') this.i = s.indexOf(':', this.i) + 1; // modifiers, e.g. (?i:...)
      const body = this.parseAlt();
      this.i++; // ')'
      return look ? { t: 'look', body, behind: look === 'behind' } : body;
    }
    if (c === '^' || c === '$') {
      this.i++;
      return { t: 'empty' };
    }
    if (c === '[') {
      let j = this.i + 1;
      while (j < s.length && s[j] !== ']') j += s[j] === '\\' ? 2 : 1;
      return this.set(this.i, (this.i = j + 1));
    }
    if (c === '\\') {
      const n = s[this.i + 1] ?? '';
      if (n === 'b' || n === 'B') {
        this.i += 2;
        return { t: 'empty' };
      }
      if (/[1-9]/.test(n) || n === 'k') throw new Error('backreferences are not supported');
      const m = /^\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|c[A-Za-z]|[pP]\{[^}]*\}|.)/su.exec(s.slice(this.i));
      const len = m ? m[0].length : 2;
      return this.set(this.i, (this.i += len));
    }
    const cp = s.codePointAt(this.i)!;
    const len = cp > 0xffff ? 2 : 1;
    return this.set(this.i, (this.i += len));
  }

  /** The characters (of 256) that the atom source[from, to) matches. */
  set(from: number, to: number): Node {
    const re = new RegExp(`^(?:${this.src.slice(from, to)})$`, this.flags);
    const bits = new Uint8Array(256);
    for (let ch = 0; ch < 256; ch++) bits[ch] = re.test(String.fromCharCode(ch)) ? 1 : 0;
    this.sets.push(bits);
    return { t: 'set', bits };
  }
}

function maxLen(n: Node): number {
  switch (n.t) {
    case 'set':
      return 1;
    case 'empty':
      return 0;
    case 'seq':
      return n.items.reduce((a, x) => a + maxLen(x), 0);
    case 'alt':
      return Math.max(...n.alts.map(maxLen));
    case 'rep': {
      const b = maxLen(n.body);
      return b === 0 ? 0 : n.max * b;
    }
    case 'look':
      return n.behind ? 0 : maxLen(n.body);
  }
}

function lookbehindLen(n: Node): number {
  switch (n.t) {
    case 'seq':
      return Math.max(0, ...n.items.map(lookbehindLen));
    case 'alt':
      return Math.max(0, ...n.alts.map(lookbehindLen));
    case 'rep':
      return lookbehindLen(n.body);
    case 'look':
      return n.behind ? maxLen(n.body) : lookbehindLen(n.body);
    default:
      return 0;
  }
}

function nullable(n: Node): boolean {
  switch (n.t) {
    case 'set':
      return false;
    case 'seq':
      return n.items.every(nullable);
    case 'alt':
      return n.alts.some(nullable);
    case 'rep':
      return n.min === 0 || nullable(n.body);
    default:
      return true;
  }
}

function union(a: Bits, b: Bits): Bits {
  const o = new Uint8Array(256);
  for (let i = 0; i < 256; i++) o[i] = a[i]! | b[i]!;
  return o;
}

function overlaps(a: Bits, b: Bits): boolean {
  for (let i = 0; i < 256; i++) if (a[i]! & b[i]!) return true;
  return false;
}

/** The characters a match of n can start with. */
function first(n: Node): Bits {
  switch (n.t) {
    case 'set':
      return n.bits;
    case 'seq': {
      let acc: Bits = new Uint8Array(256);
      for (const x of n.items) {
        acc = union(acc, first(x));
        if (!nullable(x)) break;
      }
      return acc;
    }
    case 'alt':
      return n.alts.reduce<Bits>((a, x) => union(a, first(x)), new Uint8Array(256));
    case 'rep':
      return first(n.body);
    default:
      return new Uint8Array(256);
  }
}

/** Walk with `follow` = what may come right after n; `inRep` = some enclosing repetition repeats. */
function walk(n: Node, follow: Bits, inRep: boolean, report: (msg: string) => void): void {
  switch (n.t) {
    case 'seq': {
      let f = follow;
      for (let k = n.items.length - 1; k >= 0; k--) {
        const x = n.items[k]!;
        walk(x, f, inRep, report);
        f = nullable(x) ? union(first(x), f) : first(x);
      }
      return;
    }
    case 'alt':
      for (const x of n.alts) walk(x, follow, inRep, report);
      return;
    case 'look':
      walk(n.body, new Uint8Array(256), false, report);
      return;
    case 'rep': {
      const repeats = n.max > 1;
      const fb = first(n.body);
      if (repeats && inRep && n.min !== n.max && overlaps(fb, follow)) {
        report(`a repetition nested in another repetition, where either can consume the same characters (at offset ${n.at})`);
      }
      if (repeats && n.body.t === 'alt') {
        const firsts = n.body.alts.map(first);
        for (let a = 0; a < firsts.length; a++)
          for (let b = a + 1; b < firsts.length; b++)
            if (overlaps(firsts[a]!, firsts[b]!)) report(`an alternation under a repetition whose branches can start with the same character (at offset ${n.at})`);
      }
      walk(n.body, repeats ? union(fb, follow) : follow, inRep || repeats, report);
      return;
    }
    default:
      return;
  }
}
