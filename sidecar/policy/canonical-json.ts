/**
 * Canonical JSON for hashing tool arguments in audit lines, after RFC 8785 (JSON Canonicalization
 * Scheme): object keys sorted by UTF-16 code units, no whitespace, numbers and strings serialised as
 * ECMAScript's JSON.stringify does (which is what RFC 8785 sections 3.2.2.2 and 3.2.2.3 specify).
 * Two calls with the same arguments in a different key order hash the same.
 */

/**
 * Deeper than this is not hashed. V8's JSON.parse accepts any depth, but a recursive walk (and
 * JSON.stringify itself) overflows the stack on a body of ten thousand brackets.
 */
export const MAX_DEPTH = 256;

/** The canonical form of a parsed JSON value, or undefined when it nests deeper than MAX_DEPTH. */
export function canonicalJson(value: unknown): string | undefined {
  try {
    return walk(value, 0);
  } catch (err) {
    if (err === TOO_DEEP) return undefined;
    throw err;
  }
}

const TOO_DEEP = Symbol('too deep');

function walk(v: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw TOO_DEEP;
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map((x) => walk(x, depth + 1)).join(',')}]`;
  const o = v as Record<string, unknown>;
  // Default sort compares UTF-16 code units, exactly the order RFC 8785 3.2.3 asks for.
  const keys = Object.keys(o).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${walk(o[k], depth + 1)}`).join(',')}}`;
}
