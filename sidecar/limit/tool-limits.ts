/**
 * Per-tool rate limits from the config file, per identity:
 *
 *   rateLimit:
 *     tools:
 *       execute_command: 10                              # per minute, burst 1/10 of it (at least 1)
 *       write_file: { perMinute: 30, burst: 5 }
 */
import type { ConfigIssue } from '../errors.ts';
import { TOOL_NAME } from '../settings.ts';
import type { SectionResult } from '../errors.ts';

export interface ToolLimit {
  readonly perMinute: number;
  readonly burst: number;
}
export type ToolLimits = ReadonlyMap<string, ToolLimit>;

const MAX_RATE = 10_000_000;
const EXPECTED = `a whole number of calls per minute from 1 to ${MAX_RATE}, or { perMinute, burst }`;

/** The default burst for a per-minute rate: a tenth of it, at least 1. */
export function defaultBurst(perMinute: number): number {
  return Math.max(1, Math.floor(perMinute / 10));
}

const isRate = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 1 && n <= MAX_RATE;

export function parseToolLimits(raw: unknown, where: string): SectionResult<ToolLimits> {
  const issues: ConfigIssue[] = [];
  const limits = new Map<string, ToolLimit>();
  if (raw === undefined || raw === null) return { value: limits, issues };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    issues.push({ setting: where, value: JSON.stringify(raw), expected: 'a mapping of tool name to a per-minute limit' });
    return { value: limits, issues };
  }
  for (const [tool, v] of Object.entries(raw)) {
    const at = `${where}.${tool}`;
    if (!TOOL_NAME.test(tool)) {
      issues.push({ setting: at, value: JSON.stringify(tool), expected: 'a tool name (letters, digits, _ - . /)' });
      continue;
    }
    if (isRate(v)) {
      limits.set(tool, Object.freeze({ perMinute: v, burst: defaultBurst(v) }));
      continue;
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      const extra = Object.keys(o).filter((k) => k !== 'perMinute' && k !== 'burst');
      if (isRate(o.perMinute) && (o.burst === undefined || isRate(o.burst)) && extra.length === 0) {
        limits.set(tool, Object.freeze({ perMinute: o.perMinute, burst: (o.burst as number | undefined) ?? defaultBurst(o.perMinute) }));
        continue;
      }
    }
    issues.push({ setting: at, value: JSON.stringify(v), expected: EXPECTED });
  }
  return { value: limits, issues };
}
