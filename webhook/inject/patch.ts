/**
 * Desired versus original -> RFC 6902 JSON Patch. fast-json-patch escapes object keys per RFC 6901
 * (`/` -> `~1`, `~` -> `~0`), which annotation keys such as `mcp-warden.dev/status` need.
 *
 * Lists of named items (containers, init containers, volumes) are diffed by name: inserting the
 * sidecar at index 0 becomes one `add /spec/containers/0`, not a field-by-field rewrite of every
 * existing container into its neighbour (what a positional diff produces). The patch is then
 * readable in audit logs and touches only what changed.
 */
import jsonpatch, { type Operation } from 'fast-json-patch';

const NAMED_LISTS = ['containers', 'initContainers', 'volumes'] as const;
/** Container fields that change as a whole (an argv): one replace reads better than an op per word. */
const ATOMIC_FIELDS = ['command', 'args'] as const;

type Named = { name: string } & Record<string, unknown>;
type Obj = Record<string, unknown>;

function prefixed(prefix: string, ops: Operation[]): Operation[] {
  return ops.map((op) => ({ ...op, path: `${prefix}${op.path}` }) as Operation);
}

/** Ops turning one list item into another; argv fields are replaced whole. Neither argument is modified. */
function diffItem(path: string, orig: Named, want: Named): Operation[] {
  const a: Obj = { ...orig };
  const b: Obj = { ...want };
  const ops: Operation[] = [];
  for (const f of ATOMIC_FIELDS) {
    if (JSON.stringify(a[f]) !== JSON.stringify(b[f])) {
      if (b[f] === undefined) ops.push({ op: 'remove', path: `${path}/${f}` });
      else ops.push({ op: a[f] === undefined ? 'add' : 'replace', path: `${path}/${f}`, value: b[f] });
    }
    delete a[f];
    delete b[f];
  }
  return [...prefixed(path, jsonpatch.compare(a, b)), ...ops];
}

/** Ops turning `orig` into `want`, matched by name; a reorder or duplicate names fall back to one replace. */
function diffNamedList(path: string, orig: Named[] | undefined, want: Named[] | undefined): Operation[] {
  if (orig === undefined && want === undefined) return [];
  if (orig === undefined) return [{ op: 'add', path, value: want }];
  if (want === undefined) return [{ op: 'remove', path }];
  const replaceAll: Operation[] = [{ op: 'replace', path, value: want }];
  const names = (l: Named[]) => l.map((x) => x?.name);
  if (new Set(names(orig)).size !== orig.length || new Set(names(want)).size !== want.length) return replaceAll;
  const wanted = new Set(names(want));
  const ops: Operation[] = [];
  const cur = [...orig];
  // Removals first, highest index first, so earlier indexes stay valid.
  for (let i = cur.length - 1; i >= 0; i--) {
    if (!wanted.has(cur[i]!.name)) {
      ops.push({ op: 'remove', path: `${path}/${i}` });
      cur.splice(i, 1);
    }
  }
  for (let j = 0; j < want.length; j++) {
    const w = want[j]!;
    if (cur[j]?.name === w.name) {
      ops.push(...diffItem(`${path}/${j}`, cur[j]!, w));
    } else if (cur.some((c) => c.name === w.name)) {
      return replaceAll;
    } else {
      ops.push({ op: 'add', path: `${path}/${j}`, value: w });
      cur.splice(j, 0, w);
    }
  }
  return ops;
}

/** The operations that turn `original` into `desired` (both plain JSON; neither is modified). */
export function diff(original: unknown, desired: unknown): Operation[] {
  // JSON round-trip: drops `undefined` members, which have no JSON form and would confuse the diff.
  const a = JSON.parse(JSON.stringify(original)) as Obj;
  const b = JSON.parse(JSON.stringify(desired)) as Obj;
  const specA = a.spec as Obj | undefined;
  const specB = b.spec as Obj | undefined;
  const listOps: Operation[] = [];
  if (specA && specB && typeof specA === 'object' && typeof specB === 'object') {
    for (const key of NAMED_LISTS) {
      const la = specA[key];
      const lb = specB[key];
      if ((la === undefined || Array.isArray(la)) && (lb === undefined || Array.isArray(lb))) {
        listOps.push(...diffNamedList(`/spec/${key}`, la as Named[] | undefined, lb as Named[] | undefined));
        delete specA[key];
        delete specB[key];
      }
    }
  }
  return [...jsonpatch.compare(a, b), ...listOps];
}
