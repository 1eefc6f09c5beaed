/**
 * Custom DLP patterns from the config file, in the form operators already use:
 *
 *   dlp:
 *     patterns:
 *       - { name: internal-ticket, regex: 'TICKET-[0-9]{6}', replace: '[TICKET]' }
 *
 * Each pattern is checked at start: a name, a regex that compiles, a string replacement.
 */
import type { ConfigIssue } from '../errors.ts';
import type { SectionResult } from '../sections.ts';

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
    if (replace !== undefined && typeof replace !== 'string') {
      issues.push({ setting: `${label}.replace`, value: JSON.stringify(replace), expected: 'a string' });
      return;
    }
    out.push(Object.freeze({ name, regex, replace: (replace as string | undefined) ?? `[REDACTED:${name}]` }));
  });
  return { value: out, issues };
}
