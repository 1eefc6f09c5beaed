/**
 * "Did you mean ...?" for names that are not known: sidecar variables and config-file keys
 * (config.ts), the webhook's annotations and `sidecar.env` names. One implementation, so a typo
 * gets the same suggestion wherever it is made.
 */

/** Levenshtein distance. Names compared here are short (under 100 characters). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The known name nearest to `name`, if it is near enough (fewer than 4 edits) to be a likely
 * intent; undefined otherwise. Names longer than 100 characters get no suggestion (bounded work
 * on hostile input).
 */
function closest(name: string, known: Iterable<string>): string | undefined {
  if (name.length > 100) return undefined;
  let best: string | undefined;
  let bestD = 4;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

/** ` (did you mean X?)` when a known name is near, else `otherwise` (which may be ''). */
export function didYouMean(name: string, known: Iterable<string>, otherwise = ''): string {
  const near = closest(name, known);
  return near === undefined ? otherwise : ` (did you mean ${near}?)`;
}
