/**
 * A Kubernetes label selector evaluator (metav1.LabelSelector semantics, as in
 * k8s.io/apimachinery/pkg/labels): matchLabels and matchExpressions are ANDed; an empty selector
 * matches everything; In/NotIn/Exists/DoesNotExist, where NotIn and DoesNotExist match objects that
 * lack the key.
 */
export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

/** Throws on a selector the API server would refuse, naming the field and the value. */
export function checkSelector(sel: LabelSelector, where: string): void {
  for (const [i, r] of (sel.matchExpressions ?? []).entries()) {
    if (!OPERATORS.has(r.operator)) throw new Error(`${where}.matchExpressions[${i}].operator: got ${JSON.stringify(r.operator)}, expected In, NotIn, Exists or DoesNotExist`);
    const n = r.values?.length ?? 0;
    if ((r.operator === 'In' || r.operator === 'NotIn') && n === 0) throw new Error(`${where}.matchExpressions[${i}].values: ${r.operator} needs at least one value`);
    if ((r.operator === 'Exists' || r.operator === 'DoesNotExist') && n > 0) throw new Error(`${where}.matchExpressions[${i}].values: ${r.operator} takes no values`);
  }
}

/** Whether an object with `labels` is selected by `sel` (undefined selector: everything). */
export function matches(sel: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (sel === undefined) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const r of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, r.key);
    const values = r.values ?? [];
    switch (r.operator) {
      case 'In':
        if (!has || !values.includes(labels[r.key] as string)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[r.key] as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        throw new Error(`unknown operator ${JSON.stringify(r.operator)}`);
    }
  }
  return true;
}
