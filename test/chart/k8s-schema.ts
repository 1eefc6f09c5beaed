/**
 * Validates rendered objects against the Kubernetes 1.33 OpenAPI schemas shipped by
 * kubernetes-models, and prometheus-operator objects against its CRD schemas
 * (@kubernetes-models/prometheus-operator), picking the model class by apiVersion and kind.
 * Objects of CRDs no package here knows (cert-manager) are checked structurally by the caller.
 */
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration';
import { ValidatingAdmissionPolicy } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
import { ValidatingAdmissionPolicyBinding } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodMonitor, PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import type { K8sObject } from './render.ts';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: never) => Validatable;

const MODELS: Record<string, ModelClass> = {
  'apps/v1/Deployment': Deployment,
  'v1/ConfigMap': ConfigMap,
  'v1/Pod': Pod,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': MutatingWebhookConfiguration,
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy': ValidatingAdmissionPolicy,
  'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding': ValidatingAdmissionPolicyBinding,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  // prometheus-operator's CRD schemas (the @kubernetes-models package generated from them).
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

/** Kinds of CRDs the chart may render, checked structurally instead. */
export const CRD_KINDS = new Set(['cert-manager.io/v1/Issuer', 'cert-manager.io/v1/Certificate']);

export function gvk(o: K8sObject): string {
  return `${o.apiVersion}/${o.kind}`;
}

/**
 * Validates one object; returns undefined when it is valid, else the schema errors. Throws for a
 * kind that neither the models nor CRD_KINDS know, so a new template cannot skip validation.
 */
export function schemaErrors(o: K8sObject): string | undefined {
  const Model = MODELS[gvk(o)];
  if (Model === undefined) {
    if (CRD_KINDS.has(gvk(o))) return undefined;
    throw new Error(`no schema for ${gvk(o)} (${o.metadata.name}): add it to test/chart/k8s-schema.ts`);
  }
  try {
    new Model(o as never).validate();
    return undefined;
  } catch (err) {
    return `${gvk(o)} ${o.metadata.name}: ${(err as Error).message}`;
  }
}
