/**
 * AdmissionReview v1 in and out (https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/#request).
 * Pure: a parsed body in, the response body out, plus what happened for logs and metrics.
 */
import type { WebhookConfig } from './config.ts';
import { WEBHOOK_ERR } from './errors.ts';
import { inject, type InjectOptions, type InjectResult } from './inject/inject.ts';
import type { PodLike } from './inject/types.ts';
import { isObj, type Obj } from './json.ts';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface AdmissionOutcome {
  /** HTTP status: 200 for every review that has a uid (the answer is in the body), 400 otherwise. */
  readonly httpStatus: number;
  readonly body: unknown;
  readonly result: 'injected' | 'skipped' | 'rejected' | 'invalid';
  readonly detail: InjectResult | { readonly message: string };
  readonly uid?: string;
  readonly pod?: string;
  readonly namespace?: string;
}


function invalid(message: string): AdmissionOutcome {
  return { httpStatus: 400, body: { code: WEBHOOK_ERR.REVIEW_INVALID, message }, result: 'invalid', detail: { message } };
}

function answer(uid: string, response: Obj): Obj {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response: { uid, ...response } };
}

/** Review a parsed AdmissionReview body. Never throws. */
export function review(body: unknown, config: WebhookConfig, opts: InjectOptions): AdmissionOutcome {
  if (!isObj(body)) return invalid('expected a JSON object (an AdmissionReview)');
  if (body.apiVersion !== ADMISSION_API_VERSION || body.kind !== 'AdmissionReview') {
    return invalid(`expected apiVersion "${ADMISSION_API_VERSION}" and kind "AdmissionReview", got ${JSON.stringify(String(body.apiVersion))} and ${JSON.stringify(String(body.kind))}`);
  }
  const req = body.request;
  if (!isObj(req) || typeof req.uid !== 'string' || req.uid === '') return invalid('expected request.uid (a non-empty string)');
  const uid = req.uid;
  const refuse = (message: string): AdmissionOutcome => ({
    httpStatus: 200,
    body: answer(uid, { allowed: false, status: { code: 400, reason: 'BadRequest', message } }),
    result: 'invalid',
    detail: { message },
    uid,
  });
  const kind = isObj(req.kind) ? req.kind : {};
  if (kind.kind !== 'Pod' || (kind.group ?? '') !== '' || kind.version !== 'v1') {
    return refuse(`mcp-warden mutates core/v1 Pods only, got ${JSON.stringify(`${String(kind.group ?? '')}/${String(kind.version)}/${String(kind.kind)}`)}`);
  }
  if (req.operation !== 'CREATE') {
    // Pod specs are immutable after creation; nothing to inject on UPDATE, DELETE or CONNECT.
    return { httpStatus: 200, body: answer(uid, { allowed: true }), result: 'skipped', detail: { message: `operation ${String(req.operation)}` }, uid };
  }
  const obj = req.object;
  if (!isObj(obj) || !isObj(obj.spec)) return refuse('request.object is missing or has no spec: expected the Pod being created');
  const meta = isObj(obj.metadata) ? obj.metadata : {};
  const namespace = typeof req.namespace === 'string' && req.namespace !== '' ? req.namespace : typeof meta.namespace === 'string' ? meta.namespace : 'default';
  const pod = String(meta.name ?? meta.generateName ?? '');
  const r = inject(obj as unknown as PodLike, namespace, config, opts);
  const base = { httpStatus: 200, detail: r, uid, pod, namespace } as const;
  if (r.action === 'rejected') {
    return { ...base, result: 'rejected', body: answer(uid, { allowed: false, status: { code: r.error.status, reason: 'BadRequest', message: r.error.message } }) };
  }
  const response: Obj = { allowed: true };
  if (r.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(r.patch)).toString('base64');
  }
  // The API server may truncate warnings over 256 characters; cut them ourselves, visibly.
  if (r.warnings.length > 0) response.warnings = r.warnings.map((w) => (w.length > 256 ? `${w.slice(0, 253)}...` : w));
  return { ...base, result: r.action, body: answer(uid, response) };
}
