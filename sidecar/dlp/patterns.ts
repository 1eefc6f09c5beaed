/**
 * Custom DLP patterns from the config file, in the form operators already use:
 *
 *   dlp:
 *     patterns:
 *       - { name: internal-ticket, regex: 'TICKET-[0-9]{6}', replace: '[TICKET]' }
 *
 * Each pattern is checked at start: a name, a regex that compiles, a string replacement, and a regex
 * that is safe to run on every response: its longest match is bounded (the stream hold-back is
 * bounded by it) and it cannot backtrack catastrophically (see regex-safety.ts). A pattern that
 * fails any check stops the start with a ConfigIssue naming `dlp.patterns "<name>".regex`.
 */
import type { ConfigIssue } from '../errors.ts';
import type { SectionResult } from '../errors.ts';
import { analyzeRegex, slowestAttemptMs } from './regex-safety.ts';

/** The longest match a custom pattern may have, in characters (bytes of the body). */
export const MAX_CUSTOM_MATCH = 4096;
/**
 * A custom pattern whose single match attempt on adversarial input (see slowestAttemptMs) takes
 * longer than this is refused. A linear attempt over at most 2 KB takes well under 0.2 ms here
 * (every default rule does); a quadratic one over the same input takes several milliseconds.
 * Best of three attempts, so a busy machine at start does not refuse a good pattern.
 */
export const MAX_ATTEMPT_MS = 0.5;

export interface DlpPattern {
  readonly name: string;
  readonly regex: string;
  readonly replace: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function parseDlpPatterns(raw: unknown, where: string): SectionResult<readonly DlpPattern[]> {
  const issues: ConfigIssue[] = [];
  const out: DlpPattern[] = [];
  if (raw === undefined || raw === null) return { value: out, issues };
  if (!Array.isArray(raw)) {
    issues.push({ setting: where, value: JSON.stringify(raw), expected: 'a list of { name, regex, replace }' });
    return { value: out, issues };
  }
  const seen = new Set<string>();
  raw.forEach((p: unknown, i) => {
    const at = `${where}[${i}]`;
    if (p === null || typeof p !== 'object' || Array.isArray(p)) {
      issues.push({ setting: at, value: JSON.stringify(p), expected: 'a mapping { name, regex, replace }' });
      return;
    }
    const { name, regex, replace, ...extra } = p as Record<string, unknown>;
    const label = typeof name === 'string' ? `${where} "${name}"` : at;
    if (typeof name !== 'string' || !NAME.test(name) || seen.has(name)) {
      issues.push({ setting: `${at}.name`, value: JSON.stringify(name), expected: 'a unique rule name (letters, digits, _ . -; at most 64)' });
      return;
    }
    seen.add(name);
    for (const k of Object.keys(extra)) issues.push({ setting: `${label}.${k}`, value: 'present', expected: 'only name, regex and replace' });
    if (typeof regex !== 'string' || regex === '') {
      issues.push({ setting: `${label}.regex`, value: JSON.stringify(regex), expected: 'a non-empty regular expression' });
      return;
    }
    try {
      new RegExp(regex, 'u');
    } catch (err) {
      issues.push({ setting: `${label}.regex`, value: JSON.stringify(regex), expected: `a valid regular expression (${(err as Error).message})` });
      return;
    }
    const unsafe = regexSafetyProblem(regex);
    if (unsafe) {
      issues.push({ setting: `${label}.regex`, value: JSON.stringify(regex), expected: unsafe });
      return;
    }
    if (replace !== undefined && typeof replace !== 'string') {
      issues.push({ setting: `${label}.replace`, value: JSON.stringify(replace), expected: 'a string' });
      return;
    }
    out.push(Object.freeze({ name, regex, replace: (replace as string | undefined) ?? `[REDACTED:${name}]` }));
  });
  return { value: out, issues };
}

/** Why a (compiling) custom regex is unsafe to run on responses, or undefined when it is safe. */
export function regexSafetyProblem(regex: string): string | undefined {
  let a;
  try {
    a = analyzeRegex(regex, 'u');
  } catch (err) {
    return `a regular expression without ${(err as Error).message.replace(/ are not supported$/, '')}`;
  }
  if (a.catastrophic) return `a regular expression that cannot backtrack catastrophically; found ${a.catastrophic}`;
  if (!(a.maxLength <= MAX_CUSTOM_MATCH)) return `a regular expression whose longest match is at most ${MAX_CUSTOM_MATCH} characters (use {m,n} instead of *, + or {m,})`;
  if (!(a.lookbehind <= 64)) return 'lookbehinds of at most 64 characters';
  if (new RegExp(regex, 'u').test('')) return 'a regular expression that cannot match the empty string';
  const ms = slowestAttemptMs(regex, 'u', a.samples, a.maxLength, MAX_ATTEMPT_MS);
  if (ms > MAX_ATTEMPT_MS) return `a regular expression that runs in linear time (one match attempt took ${ms.toFixed(1)} ms on adversarial input built from its own characters)`;
  return undefined;
}
