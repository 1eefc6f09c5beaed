/**
 * The slice of the Pod schema the injector reads and writes, as plain JSON (what AdmissionReview
 * carries). Unknown fields are kept as they are: the injector clones and edits, never rebuilds.
 */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
  [k: string]: unknown;
}

export interface Probe {
  httpGet?: { port: number | string; [k: string]: unknown };
  tcpSocket?: { port: number | string; [k: string]: unknown };
  grpc?: { port: number; [k: string]: unknown };
  [k: string]: unknown;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  [k: string]: unknown;
}

/** Fields the injector reads; shape.ts checks their types first (null stands for unset, as the API server reads it). */
export interface Container {
  name: string;
  image?: string | null;
  command?: string[] | null;
  args?: string[] | null;
  terminationMessagePath?: string | null;
  volumeMounts?: VolumeMount[] | null;
  ports?: ContainerPort[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  restartPolicy?: string;
  [k: string]: unknown;
}

export interface Volume {
  name: string;
  [k: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  [k: string]: unknown;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [k: string]: unknown;
}

/** A Pod, or a pod template (`metadata` + `spec`) taken out of a workload. */
export interface PodLike {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec: PodSpec;
  [k: string]: unknown;
}

/** The probe fields of a container, in a fixed order. */
export const PROBES = ['startupProbe', 'livenessProbe', 'readinessProbe'] as const;
