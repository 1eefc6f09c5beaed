/**
 * Runs the real helm binary over the chart and parses what it renders. Tests share one cache so
 * each (values file, capabilities) pair costs one helm process (~100-300 ms each).
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART = join(ROOT, 'charts', 'mcp-warden');
export const HELM = join(ROOT, 'node_modules', '.bin', 'helm');
/** The namespace every test renders into; the webhook must never match it. */
export const RELEASE_NAMESPACE = 'mcp-system';
export const RELEASE_NAME = 'warden-test';

/** A rendered Kubernetes object: the fields every object has, the rest left to the caller. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A clean environment for helm: no user repositories, plugins or kubeconfig leak in. */
export function helmEnv(): Record<string, string> {
  const home = join(ROOT, 'node_modules', '.cache', 'helm-test');
  return {
    PATH: process.env.PATH ?? '',
    HOME: home,
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_DATA_HOME: join(home, 'data'),
    KUBECONFIG: join(home, 'no-kubeconfig'),
  };
}

/** Runs helm in helmEnv(). */
export function helm(args: readonly string[]): Promise<HelmResult> {
  const env = helmEnv();
  return new Promise((resolve, reject) => {
    execFile(HELM, [...args], { env, maxBuffer: 32 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(err);
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

/** Parses a multi-document YAML stream; empty documents (a template that rendered nothing) drop out. */
export function parseManifests(text: string): K8sObject[] {
  const out: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`rendered document is not an object: ${JSON.stringify(value)}`);
    const o = value as K8sObject;
    if (typeof o.apiVersion !== 'string' || typeof o.kind !== 'string' || typeof o.metadata?.name !== 'string') {
      throw new Error(`rendered object lacks apiVersion, kind or metadata.name: ${JSON.stringify(value).slice(0, 200)}`);
    }
    out.push(o);
  }
  return out;
}

/** Cluster capabilities to render against. */
export interface Capabilities {
  kubeVersion: string;
  /** Whether the cluster serves admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy. */
  vap: boolean;
}
export const NEW_CLUSTER: Capabilities = { kubeVersion: '1.33.0', vap: true };
export const OLD_CLUSTER: Capabilities = { kubeVersion: '1.29.0', vap: false };

export function templateArgs(valuesFile: string | undefined, caps: Capabilities, extra: readonly string[] = []): string[] {
  const args = ['template', RELEASE_NAME, CHART, '--namespace', RELEASE_NAMESPACE, '--kube-version', caps.kubeVersion];
  if (caps.vap) args.push('--api-versions', 'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy');
  if (valuesFile !== undefined) args.push('--values', valuesFile);
  return [...args, ...extra];
}

const cache = new Map<string, Promise<K8sObject[]>>();

/** Renders the chart (cached per values file and capabilities); rejects with helm's stderr on failure. */
export function render(valuesFile: string | undefined, caps: Capabilities): Promise<K8sObject[]> {
  const key = `${valuesFile ?? ''}|${caps.kubeVersion}|${caps.vap}`;
  let p = cache.get(key);
  if (p === undefined) {
    p = helm(templateArgs(valuesFile, caps)).then((r) => {
      if (r.code !== 0) throw new Error(`helm template ${valuesFile ?? '(defaults)'} failed (${r.code}): ${r.stderr}`);
      return parseManifests(r.stdout);
    });
    cache.set(key, p);
  }
  return p;
}

/** Runs async jobs with at most `limit` at a time (the machine has two cores). */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Narrowing helpers for walking rendered objects without `any`. */
export type Json = Record<string, unknown>;
export function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
export function obj(v: unknown, what: string): Json {
  if (!isObj(v)) throw new Error(`${what}: expected an object, got ${JSON.stringify(v)}`);
  return v;
}
export function list(v: unknown, what: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new Error(`${what}: expected a list, got ${JSON.stringify(v)}`);
  return v;
}
/** `get(o, 'spec.template.spec')`: undefined when any step is missing. */
export function get(v: unknown, path: string): unknown {
  let cur: unknown = v;
  for (const step of path.split('.')) {
    if (!isObj(cur)) return undefined;
    cur = cur[step];
  }
  return cur;
}
