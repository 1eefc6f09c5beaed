/**
 * The layout's one structural rule that a reader cannot see at a glance: no module of the sidecar
 * or the webhook imports itself through others (type imports count: a cycle of types is still two
 * modules that cannot be understood apart). Tarjan's strongly connected components over the
 * relative imports of every .ts file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const IMPORT = /(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

test('no import cycles in sidecar/ or webhook/', () => {
  const files = [...sources(join(ROOT, 'sidecar')), ...sources(join(ROOT, 'webhook'))];
  const graph = new Map(files.map((f) => [f, [...readFileSync(f, 'utf8').matchAll(IMPORT)].map((m) => normalize(join(dirname(f), m[1]!)))]));
  assert.ok(graph.size > 50, 'the sources were found');
  // Imports that name no source file are skipped below (package.json, say); a regex that stopped
  // matching, or paths that stopped resolving, would leave no edges and no cycles. 381 edges now.
  const edges = [...graph.values()].flat().filter((w) => graph.has(w)).length;
  assert.ok(edges > 200, `only ${edges} imports between the sources resolved`);
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      component.push(relative(ROOT, w));
      if (w === v) break;
    }
    if (component.length > 1) cycles.push(component);
  };
  for (const f of graph.keys()) if (!index.has(f)) visit(f);
  assert.deepEqual(cycles, [], `modules that import each other: ${JSON.stringify(cycles)}`);
});
