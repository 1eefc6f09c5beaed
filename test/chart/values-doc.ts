/**
 * Reads values.yaml's layout to check the documentation promise: every key carries a `# --`
 * comment (directly or through a documented parent, e.g. the entries of `resources`), and the
 * chart README's table names every documented key.
 */
export interface ValuesKey {
  readonly path: string;
  /** The key has its own `# --` comment. */
  readonly documented: boolean;
  /** A parent key has one (its children are examples of it). */
  readonly coveredByParent: boolean;
  /** The value is on the same line (not a nested mapping). */
  readonly leaf: boolean;
  readonly line: number;
}

export function valuesKeys(text: string): ValuesKey[] {
  const out: ValuesKey[] = [];
  const stack: { key: string; documented: boolean }[] = [];
  let pendingDoc = false;
  for (const [i, line] of text.split('\n').entries()) {
    if (/^\s*# -- /.test(line)) {
      pendingDoc = true;
      continue;
    }
    if (/^\s*#/.test(line)) continue; // continuation of a comment block
    const m = /^(\s*)([A-Za-z_][\w.-]*):(.*)$/.exec(line);
    if (!m) {
      if (line.trim() !== '' && !line.trim().startsWith('-')) pendingDoc = false;
      continue;
    }
    const depth = (m[1] as string).length / 2;
    stack.length = depth;
    const coveredByParent = stack.some((s) => s.documented);
    stack[depth] = { key: m[2] as string, documented: pendingDoc || coveredByParent };
    out.push({ path: stack.map((s) => s.key).join('.'), documented: pendingDoc, coveredByParent, leaf: (m[3] as string).trim() !== '', line: i + 1 });
    pendingDoc = false;
  }
  return out;
}
