/**
 * Log lines for events that can repeat on every request (a Redis outage touches each decision):
 * the first of a kind is logged at once, the rest at most once per interval, with how many were
 * left out since the last line. State is one entry per kind of event, so it stays small.
 */
import type { Logger } from './log.ts';

export type ThrottledLog = (kind: string, level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, msg: string) => void;

export function createLogThrottle(log: Logger, opts: { intervalMs: number; now?: () => number }): ThrottledLog {
  const now = opts.now ?? (() => performance.now());
  const seen = new Map<string, { at: number; suppressed: number }>();
  return (kind, level, fields, msg) => {
    const t = now();
    const s = seen.get(kind);
    if (s !== undefined && t - s.at < opts.intervalMs) {
      s.suppressed++;
      return;
    }
    const suppressed = s?.suppressed ?? 0;
    seen.set(kind, { at: t, suppressed: 0 });
    log[level](suppressed > 0 ? { ...fields, suppressed } : fields, msg);
  };
}
