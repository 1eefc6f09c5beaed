/**
 * One setting's raw value, read by the rules every mcp-warden program follows (the sidecar's
 * config.ts and the stdio bridge's stdio/config.ts): only an absent value takes the default, an
 * empty one is parsed like any other, and a refused value becomes an issue naming the setting,
 * the value (secrets masked) and what was expected.
 */
import type { ConfigIssue } from './errors.ts';
import type { Parsed, Setting } from './settings.ts';

/** Shown instead of a secret's value in error messages. */
export const MASKED = '<redacted>';

function show(setting: Setting<unknown>, raw: unknown): string {
  if (setting.secret) return MASKED;
  const s = typeof raw === 'string' ? setting.display(raw) : JSON.stringify(raw);
  return JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}...` : s);
}

/**
 * "A variable that is set must mean something." Kubernetes renders `value: ""` and YAML renders
 * `key:` as null, and treating those as unset once let `MCP_AUTH_KEY=` turn authentication off.
 * So an empty value is parsed like any other: a list setting reads it as the empty list (no
 * exempt paths, no allowed origins), every other setting refuses it. Only an absent variable or
 * key takes the default.
 */
function isEmpty(raw: unknown): boolean {
  return raw === null || (typeof raw === 'string' && raw.trim() === '');
}

/** What to do about an empty value, for the error message (no setting: the config-file path). */
export function emptyHint(setting: Setting<unknown> | undefined): string {
  const fix = setting === undefined
    ? 'give it a value, or remove it to read no file'
    : setting.required
      ? 'give it a value'
      : setting.default !== undefined
        ? `give it a value, or remove it to use the default (${JSON.stringify(setting.format(setting.default))})`
        : 'give it a value, or remove it to leave it unset';
  return ` (it is set but empty: ${fix})`;
}

/**
 * The value of `setting` from `raw` (undefined: absent; null: an empty file key). `where` names it
 * in an issue (the variable, or the file key and file). A problem is pushed onto `issues` and the
 * default returned, so the caller goes on and reports every bad setting at once.
 */
export function readSetting<T>(setting: Setting<T>, raw: unknown, where: string, issues: ConfigIssue[]): T | undefined {
  if (raw === undefined) {
    if (setting.required) issues.push({ setting: setting.env, value: 'unset', expected: `${setting.expected} (required)` });
    return setting.default;
  }
  const parsed: Parsed<T> = raw === null ? { ok: false } : setting.parse(raw);
  if (parsed.ok) return parsed.value;
  const detail = parsed.detail && !setting.secret ? ` (${parsed.detail})` : '';
  const empty = isEmpty(raw);
  issues.push({ setting: where, value: empty ? 'empty' : show(setting as Setting<unknown>, raw), expected: setting.expected + detail + (empty ? emptyHint(setting as Setting<unknown>) : '') });
  return setting.default;
}
