/**
 * createRedactor: compiles the default rules and the operator's custom patterns once, and hands out
 * whole-text redaction and chunk-safe stream scanners that share them.
 */
import type { DlpPattern } from './patterns.ts';
import { analyzeRegex } from './regex-safety.ts';
import { DEFAULT_RULES, type DlpRule } from './rules.ts';
import { JsonView, SIMPLE_ESCAPES, fieldTree } from './json-view.ts';
import { OPAQUE_FIELDS } from '../mcp/opaque-fields.ts';
import { AnchorIndex, CONTEXT, SMALL_HOLD, StreamScanner, StringSink, type CompiledRule, type TextPipe } from './scanner.ts';

/** The protocol-opaque fields of JSON-RPC messages, compiled once. */
const OPAQUE = fieldTree(OPAQUE_FIELDS);

export interface RedactResult {
  readonly text: string;
  /** Names of the rules that matched, once per match, in order. Never the secret. */
  readonly matches: string[];
}

/** How JSON text is read. */
export interface JsonOptions {
  /**
   * The text is JSON-RPC (an MCP body or event): the protocol-opaque fields of each message
   * (mcp/opaque-fields.ts: ids, requestState, cursors, progress tokens, ...) are never altered.
   */
  readonly jsonRpc?: boolean;
}

export interface Redactor {
  /** The most characters (body bytes) a stream scanner ever holds back. */
  readonly holdBack: number;
  /** Rule names, defaults first. */
  readonly ruleNames: readonly string[];
  /** Redact a whole text. `json` (default: the text starts with `{` or `[`) keeps JSON valid. */
  redact(text: string, opts?: { json?: boolean } & JsonOptions): RedactResult;
  /** Redact a whole latin1 text (one char per byte). */
  redactLatin1(text: string, json: boolean, onMatch?: (rule: string) => void, opts?: JsonOptions): RedactResult;
  /** A chunk-safe scanner over latin1 text; in JSON mode it reads strings decoded (json-view.ts). */
  stream(json: boolean, onMatch?: (rule: string) => void, opts?: JsonOptions): TextPipe;
  /**
   * False when no rule can match the latin1 text as `stream(json)` reads it (a body, an event, a
   * header value): exact, so a false lets the text pass unscanned. Every match holds an anchor; in
   * JSON mode the scanner reads strings decoded (json-view.ts), so an escape that could spell an
   * anchor character counts too.
   */
  mayMatch(text: string, json: boolean): boolean;
}

export interface RedactorOptions {
  /** Custom patterns from the config file, applied after the default rules. */
  readonly patterns: readonly DlpPattern[];
  /** Called once per redaction with the rule's name (never the secret). */
  readonly onMatch?: (rule: string) => void;
  /** Replace the default rules (tests, benchmarks). */
  readonly rules?: readonly DlpRule[];
}

const toLatin1 = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');

/** Custom regexes are written over characters; the scanner reads bytes: spell non-ASCII literals as their UTF-8 bytes. */
function bytewise(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    if (ch === '\\') {
      out += ch + (source[i + 1] ?? '');
      i++;
    } else if (inClass) {
      if (ch === ']') inClass = false;
      out += ch;
    } else if (ch === '[') {
      inClass = true;
      out += ch;
    } else if (ch.charCodeAt(0) > 0x7f) {
      const cp = source.codePointAt(i)!;
      if (cp > 0xffff) i++;
      const hex = [...Buffer.from(String.fromCodePoint(cp), 'utf8')].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
      out += `(?:${hex})`;
    } else out += ch;
  }
  return out;
}

function compile(name: string, regex: string, flags: string, replace: string, anchors: readonly string[], anchorOffset: number, maxLength: number, lead?: string): CompiledRule {
  const sticky = anchors.length > 0;
  return Object.freeze({
    name,
    re: new RegExp(regex, flags + (sticky ? 'y' : 'g')),
    anchors,
    anchorOffset,
    lead: lead === undefined ? undefined : new RegExp(`^${lead}$`),
    maxLength,
    replace: toLatin1(replace),
    replaceInString: toLatin1(JSON.stringify(replace).slice(1, -1)),
    replaceQuoted: toLatin1(JSON.stringify(replace)),
  });
}

/**
 * Compile default and custom rules once. Custom patterns come from parseDlpPatterns (dlp/patterns.ts),
 * which checked their safety at config load; the check is timed, so it runs once, there.
 */
export function createRedactor(opts: RedactorOptions): Redactor {
  const rules: CompiledRule[] = (opts.rules ?? DEFAULT_RULES).map((r) => compile(r.name, r.regex, r.flags, r.replace, r.anchors, r.anchorOffset, r.maxLength, r.lead));
  for (const p of opts.patterns) {
    const src = bytewise(p.regex);
    const a = analyzeRegex(src, 'u');
    // A literal start of 3+ chars (`TICKET-[0-9]{6}`) serves as an anchor; otherwise a full scan.
    const anchors = a.literalPrefix.length >= 3 ? [a.literalPrefix] : [];
    rules.push(compile(p.name, src, 'u', p.replace, anchors, 0, a.maxLength));
  }
  const always = opts.onMatch ?? (() => {});
  const index = new AnchorIndex(rules);
  // The most a run leaves held: a possible match (its anchor up to anchorOffset in, then its
  // longest length and the context), or an anchor still arriving. A push may add half again before
  // the next run, and a small hold is always rescanned (scanner.ts).
  const decideAt = Math.max(...rules.map((r) => r.maxLength + r.anchorOffset)) + CONTEXT + index.longestAnchor;
  const anyAnchor = new RegExp(index.re.source);
  const fullScan = rules.some((r) => r.anchors.length === 0);
  // The escapes JsonView decodes to a character some anchor holds: \uXXXX (any ASCII), and of \/
  // \b \f \n \r \t those whose character is in an anchor.
  const anchorChars = new Set(rules.flatMap((r) => [...r.anchors.join('')]));
  const simple = Object.entries(SIMPLE_ESCAPES)
    .filter(([, ch]) => anchorChars.has(ch))
    .map(([e]) => (e === '/' ? '\\/' : e))
    .join('');
  const decodingEscape = new RegExp(`\\\\[u${simple}]`);

  const stream = (json: boolean, onMatch?: (rule: string) => void, opts?: JsonOptions): TextPipe => {
    const scanner = new StreamScanner(rules, index, json, (rule) => {
      always(rule);
      onMatch?.(rule);
    });
    return json ? new JsonView(scanner, opts?.jsonRpc === true ? OPAQUE : undefined) : scanner;
  };

  const redactLatin1 = (text: string, json: boolean, onMatch?: (rule: string) => void, opts?: JsonOptions): RedactResult => {
    const matches: string[] = [];
    const s = stream(
      json,
      (rule) => {
        matches.push(rule);
        onMatch?.(rule);
      },
      opts,
    );
    const sink = new StringSink();
    s.push(text, sink);
    s.end(sink);
    return { text: matches.length === 0 ? text : sink.out, matches };
  };

  return Object.freeze({
    holdBack: 2 * decideAt + SMALL_HOLD,
    ruleNames: Object.freeze(rules.map((r) => r.name)),
    redactLatin1,
    stream,
    mayMatch: (text: string, json: boolean) => fullScan || anyAnchor.test(text) || (json && decodingEscape.test(text)),
    redact(text: string, o?: { json?: boolean } & JsonOptions): RedactResult {
      const json = o?.json ?? /^\s*[[{]/.test(text);
      const r = redactLatin1(toLatin1(text), json, undefined, o);
      return { text: r.matches.length === 0 ? text : Buffer.from(r.text, 'latin1').toString('utf8'), matches: r.matches };
    },
  });
}
