/**
 * Where a pod spec lives in each workload kind, so the CLI can inject into templates as
 * `istioctl kube-inject` does. The injected template is written back in place.
 */
import type { PodLike } from './types.ts';
import { isObj, type Obj } from '../json.ts';


/** Kinds whose pod template is at `spec.template`. */
export const TEMPLATE_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'ReplicationController'] as const;

/**
 * The pod (or pod template) of an object, where it sits (`spec.template`; empty for a Pod), and a
 * setter that puts an injected copy back; undefined for kinds that carry no pod.
 */
export function podOf(obj: unknown): { pod: PodLike; where: string; put(pod: PodLike): Obj } | undefined {
  if (!isObj(obj) || !isObj(obj.spec)) return undefined;
  const kind = obj.kind;
  if (kind === 'Pod') return { pod: obj as unknown as PodLike, where: '', put: (p) => p as unknown as Obj };
  let holder: Obj | undefined;
  let path: string[];
  if ((TEMPLATE_KINDS as readonly unknown[]).includes(kind)) path = ['spec'];
  else if (kind === 'CronJob') path = ['spec', 'jobTemplate', 'spec'];
  else return undefined;
  holder = obj;
  for (const p of path) {
    const next: unknown = holder[p];
    if (!isObj(next)) return undefined;
    holder = next;
  }
  const t = holder.template;
  if (!isObj(t) || !isObj(t.spec)) return undefined;
  // A malformed template metadata is passed on as it is, so inject() names it instead of dropping it.
  const pod = { metadata: t.metadata ?? {}, spec: t.spec } as unknown as PodLike;
  return {
    pod,
    where: [...path, 'template'].join('.'),
    put(injected) {
      const copy = structuredClone(obj);
      let h: Obj = copy;
      for (const p of path) h = h[p] as Obj;
      h.template = { ...(h.template as Obj), metadata: injected.metadata, spec: injected.spec };
      return copy;
    },
  };
}
