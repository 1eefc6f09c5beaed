/**
 * Per-group tool policy from the config file:
 *
 *   tools:
 *     groups:
 *       mcp.users:        { allow: [search_docs, read_file] }
 *       mcp.power_users:  { allow: [search_docs, read_file, write_file] }
 *
 * A caller whose token carries one of these groups may call the union of its groups' `allow`
 * lists, minus any group `deny` and the global deny list.
 */
import type { ConfigIssue } from '../errors.ts';
import { TOOL_NAME } from '../settings.ts';
import type { SectionResult } from '../errors.ts';

export interface GroupPolicy {
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}
export type ToolGroups = ReadonlyMap<string, GroupPolicy>;

const EXPECTED_LIST = 'a list of tool names (letters, digits, _ - . /; or * in allow)';

export function parseToolGroups(raw: unknown, where: string): SectionResult<ToolGroups> {
  const issues: ConfigIssue[] = [];
  const groups = new Map<string, GroupPolicy>();
  if (raw === undefined || raw === null) return { value: groups, issues };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    issues.push({ setting: where, value: JSON.stringify(raw), expected: 'a mapping of group name to { allow: [...], deny: [...] }' });
    return { value: groups, issues };
  }
  for (const [group, body] of Object.entries(raw)) {
    const at = `${where}.${group}`;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      issues.push({ setting: at, value: JSON.stringify(body), expected: 'a mapping with allow and/or deny lists' });
      continue;
    }
    const entry: { allow: string[]; deny: string[] } = { allow: [], deny: [] };
    for (const [k, v] of Object.entries(body)) {
      if (k !== 'allow' && k !== 'deny') {
        issues.push({ setting: `${at}.${k}`, value: 'present', expected: 'only allow and deny' });
        continue;
      }
      const okItem = (t: unknown): t is string => typeof t === 'string' && ((k === 'allow' && t === '*') || TOOL_NAME.test(t));
      if (!Array.isArray(v) || !v.every(okItem)) {
        issues.push({ setting: `${at}.${k}`, value: JSON.stringify(v), expected: EXPECTED_LIST });
        continue;
      }
      entry[k] = [...v];
    }
    groups.set(group, Object.freeze({ allow: Object.freeze(entry.allow), deny: Object.freeze(entry.deny) }));
  }
  return { value: groups, issues };
}
