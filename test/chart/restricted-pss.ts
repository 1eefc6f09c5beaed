/**
 * Checks a pod spec against the Pod Security Standards "restricted" profile
 * (https://kubernetes.io/docs/concepts/security/pod-security-standards/), plus the house rule of a
 * read-only root filesystem. Returns every violation, each naming the field and the value.
 */
import { get, isObj, list } from './render.ts';

const ALLOWED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
const SECCOMP_OK = new Set(['RuntimeDefault', 'Localhost']);

export function restrictedViolations(podSpec: unknown): string[] {
  const v: string[] = [];
  const spec = isObj(podSpec) ? podSpec : {};
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC']) {
    if (spec[f] === true) v.push(`spec.${f}: true is forbidden`);
  }
  for (const [i, vol] of list(spec.volumes, 'volumes').entries()) {
    const types = Object.keys(isObj(vol) ? vol : {}).filter((k) => k !== 'name');
    for (const t of types) if (!ALLOWED_VOLUME_TYPES.has(t)) v.push(`spec.volumes[${i}].${t}: volume type not allowed (hostPath and friends)`);
  }
  const podSc = get(spec, 'securityContext');
  const podNonRoot = get(podSc, 'runAsNonRoot');
  const podSeccomp = get(podSc, 'seccompProfile.type');
  if (get(podSc, 'runAsUser') === 0) v.push('spec.securityContext.runAsUser: 0 (root) is forbidden');
  if (podSeccomp !== undefined && !SECCOMP_OK.has(String(podSeccomp))) v.push(`spec.securityContext.seccompProfile.type: ${String(podSeccomp)}, expected RuntimeDefault or Localhost`);
  for (const s of list(get(podSc, 'sysctls'), 'sysctls')) v.push(`spec.securityContext.sysctls: ${JSON.stringify(s)} not allowed here`);

  const groups = [['containers', spec.containers], ['initContainers', spec.initContainers], ['ephemeralContainers', spec.ephemeralContainers]] as const;
  for (const [field, cs] of groups) {
    for (const [i, c] of list(cs, field).entries()) {
      const at = `spec.${field}[${i}] (${String(get(c, 'name'))})`;
      const sc = get(c, 'securityContext');
      if (get(sc, 'privileged') === true) v.push(`${at}.securityContext.privileged: true is forbidden`);
      if (get(sc, 'allowPrivilegeEscalation') !== false) v.push(`${at}.securityContext.allowPrivilegeEscalation: must be false, got ${JSON.stringify(get(sc, 'allowPrivilegeEscalation'))}`);
      const nonRoot = get(sc, 'runAsNonRoot') ?? podNonRoot;
      if (nonRoot !== true) v.push(`${at}: runAsNonRoot must be true (container or pod), got ${JSON.stringify(nonRoot)}`);
      if (get(sc, 'runAsUser') === 0) v.push(`${at}.securityContext.runAsUser: 0 (root) is forbidden`);
      const seccomp = get(sc, 'seccompProfile.type') ?? podSeccomp;
      if (!SECCOMP_OK.has(String(seccomp))) v.push(`${at}: seccompProfile.type must be RuntimeDefault or Localhost (container or pod), got ${JSON.stringify(seccomp)}`);
      const drop = list(get(sc, 'capabilities.drop'), 'capabilities.drop');
      if (!drop.includes('ALL')) v.push(`${at}.securityContext.capabilities.drop: must include ALL, got ${JSON.stringify(drop)}`);
      for (const cap of list(get(sc, 'capabilities.add'), 'capabilities.add')) {
        if (cap !== 'NET_BIND_SERVICE') v.push(`${at}.securityContext.capabilities.add: ${JSON.stringify(cap)} is forbidden (only NET_BIND_SERVICE)`);
      }
      if (get(sc, 'readOnlyRootFilesystem') !== true) v.push(`${at}.securityContext.readOnlyRootFilesystem: must be true, got ${JSON.stringify(get(sc, 'readOnlyRootFilesystem'))}`);
      for (const [j, p] of list(get(c, 'ports'), 'ports').entries()) {
        if (get(p, 'hostPort') !== undefined && get(p, 'hostPort') !== 0) v.push(`${at}.ports[${j}].hostPort: ${String(get(p, 'hostPort'))} is forbidden`);
      }
    }
  }
  return v;
}
