/**
 * Checks a real API server would make that kubernetes-models does not (FACTS.md: no enums, unknown
 * fields, names or duplicate container names), and a Restricted Pod Security Standard check.
 */
import { Pod } from 'kubernetes-models/v1';

type Obj = Record<string, unknown>;
type Container = Obj & { name: string; ports?: Array<Obj & { name?: string; containerPort: number; protocol?: string }> };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const IANA_SVC_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const CONTAINER_KEYS = new Set(['name', 'image', 'command', 'args', 'workingDir', 'ports', 'envFrom', 'env', 'resources', 'resizePolicy', 'restartPolicy', 'volumeMounts', 'volumeDevices', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'terminationMessagePath', 'terminationMessagePolicy', 'imagePullPolicy', 'securityContext', 'stdin', 'stdinOnce', 'tty']);
const PROBE_KEYS = new Set(['exec', 'httpGet', 'tcpSocket', 'grpc', 'initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold', 'terminationGracePeriodSeconds']);

/** Every problem with a pod (or a pod template wrapped as a Pod); empty when the API server would accept it. */
export function podProblems(pod: Obj): string[] {
  const out: string[] = [];
  try {
    new Pod(pod as never).validate();
  } catch (err) {
    out.push(`kubernetes-models: ${(err as Error).message}`);
  }
  const spec = pod.spec as Obj & { containers: Container[]; initContainers?: Container[]; volumes?: Obj[] };
  const all = [...(spec.initContainers ?? []), ...spec.containers];
  const names = all.map((c) => c.name);
  if (new Set(names).size !== names.length) out.push(`duplicate container names: ${names.join(', ')}`);
  const volumes = new Set((spec.volumes ?? []).map((v) => v.name as string));
  if (volumes.size !== (spec.volumes ?? []).length) out.push('duplicate volume names');
  const podPortNames: string[] = [];
  for (const c of all) {
    if (!DNS_LABEL.test(c.name)) out.push(`container name ${c.name} is not a DNS label`);
    for (const k of Object.keys(c)) if (!CONTAINER_KEYS.has(k)) out.push(`${c.name}: unknown field ${k}`);
    if (c.imagePullPolicy !== undefined && !['Always', 'IfNotPresent', 'Never'].includes(c.imagePullPolicy as string)) out.push(`${c.name}: imagePullPolicy ${String(c.imagePullPolicy)}`);
    if (c.restartPolicy !== undefined && (!(spec.initContainers ?? []).includes(c) || c.restartPolicy !== 'Always')) out.push(`${c.name}: restartPolicy ${String(c.restartPolicy)} (only Always, only on init containers)`);
    const own = new Set<string>();
    for (const p of c.ports ?? []) {
      if (p.protocol !== undefined && !['TCP', 'UDP', 'SCTP'].includes(p.protocol)) out.push(`${c.name}: protocol ${p.protocol}`);
      if (p.name !== undefined) {
        if (!IANA_SVC_NAME.test(p.name)) out.push(`${c.name}: port name ${p.name} is not an IANA_SVC_NAME`);
        if (own.has(p.name)) out.push(`${c.name}: duplicate port name ${p.name}`);
        own.add(p.name);
        podPortNames.push(p.name);
      }
    }
    const envNames = ((c.env as Array<{ name: string }> | undefined) ?? []).map((e) => e.name);
    if (new Set(envNames).size !== envNames.length) out.push(`${c.name}: duplicate env names`);
    for (const e of envNames) if (!ENV_NAME.test(e)) out.push(`${c.name}: env name ${e}`);
    for (const m of (c.volumeMounts as Obj[] | undefined) ?? []) if (!volumes.has(m.name as string)) out.push(`${c.name}: volumeMount ${String(m.name)} has no volume`);
    for (const pk of ['startupProbe', 'livenessProbe', 'readinessProbe'] as const) {
      const probe = c[pk] as Obj | undefined;
      if (!probe) continue;
      for (const k of Object.keys(probe)) if (!PROBE_KEYS.has(k)) out.push(`${c.name}.${pk}: unknown field ${k}`);
      if (pk !== 'readinessProbe' && probe.successThreshold !== undefined && probe.successThreshold !== 1) out.push(`${c.name}.${pk}: successThreshold must be 1`);
      for (const h of ['httpGet', 'tcpSocket'] as const) {
        const port = (probe[h] as Obj | undefined)?.port;
        if (typeof port === 'string' && !own.has(port)) out.push(`${c.name}.${pk}: port name ${port} is not a port of this container`);
      }
    }
  }
  // Named targetPorts resolve to the first match in the pod: the takeover needs unique names.
  if (new Set(podPortNames).size !== podPortNames.length) out.push(`port names repeat across the pod: ${podPortNames.join(', ')}`);
  return out;
}

/**
 * Restricted Pod Security Standard (https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted)
 * for one container, judged on the container's own securityContext (the sidecar must not depend on
 * the pod's), plus a read-only root filesystem.
 */
export function restrictedViolations(c: Obj): string[] {
  const sc = (c.securityContext ?? {}) as Obj & { capabilities?: { drop?: string[]; add?: string[] }; seccompProfile?: { type?: string } };
  const out: string[] = [];
  if (sc.privileged === true) out.push('privileged');
  if (sc.allowPrivilegeEscalation !== false) out.push('allowPrivilegeEscalation must be false');
  if (!(sc.capabilities?.drop ?? []).includes('ALL')) out.push('capabilities.drop must include ALL');
  if ((sc.capabilities?.add ?? []).some((a) => a !== 'NET_BIND_SERVICE')) out.push('capabilities.add beyond NET_BIND_SERVICE');
  if (sc.runAsNonRoot !== true) out.push('runAsNonRoot must be true');
  if (typeof sc.runAsUser !== 'number' || sc.runAsUser === 0) out.push('runAsUser must be a non-zero number');
  if (!['RuntimeDefault', 'Localhost'].includes(sc.seccompProfile?.type ?? '')) out.push('seccompProfile.type must be RuntimeDefault or Localhost');
  if (sc.readOnlyRootFilesystem !== true) out.push('readOnlyRootFilesystem must be true');
  if (sc.procMount !== undefined && sc.procMount !== 'Default') out.push('procMount');
  for (const p of (c.ports as Obj[] | undefined) ?? []) if (p.hostPort !== undefined && p.hostPort !== 0) out.push('hostPort');
  return out;
}
