/**
 * validatingAdmissionPolicy.enabled: auto | true | false, with the real helm binary. `helm
 * template` without a cluster sees no ValidatingAdmissionPolicy API, so "auto" must say in the
 * rendered output that the policy was left out; "true" renders it offline; "false" never does.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { schemaErrors } from './k8s-schema.ts';
import { CHART, NEW_CLUSTER, OLD_CLUSTER, RELEASE_NAME, RELEASE_NAMESPACE, helm, parseManifests, templateArgs } from './render.ts';
import type { K8sObject } from './render.ts';

const VAP_API = 'admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy';
const WARNING = /# WARNING: no ValidatingAdmissionPolicy rendered\. validatingAdmissionPolicy\.enabled is "auto"/;

/** `helm template` as a GitOps pipeline runs it: no cluster, no --kube-version, no --api-versions. */
async function offline(extra: readonly string[] = []): Promise<{ stdout: string; objects: K8sObject[] }> {
  const r = await helm(['template', RELEASE_NAME, CHART, '--namespace', RELEASE_NAMESPACE, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return { stdout: r.stdout, objects: parseManifests(r.stdout) };
}
const policies = (objs: K8sObject[]) => objs.filter((o) => o.kind === 'ValidatingAdmissionPolicy' || o.kind === 'ValidatingAdmissionPolicyBinding');

/** The NOTES an install prints (`helm install --dry-run=client` renders them without a cluster). */
async function notes(extra: readonly string[]): Promise<string> {
  const r = await helm(['install', RELEASE_NAME, CHART, '--namespace', RELEASE_NAMESPACE, '--dry-run=client', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  const at = r.stdout.indexOf('NOTES:');
  assert.notEqual(at, -1, 'install printed NOTES');
  return r.stdout.slice(at);
}

describe('validatingAdmissionPolicy.enabled', () => {
  test('auto, offline: no policy, and a WARNING comment in the output that names --api-versions', async () => {
    const { stdout, objects } = await offline();
    assert.deepEqual(policies(objects), []);
    assert.match(stdout, WARNING);
    assert.ok(stdout.includes(`--api-versions ${VAP_API}`), 'the warning tells how to render it offline');
    assert.match(await notes([]), /WARNING: no ValidatingAdmissionPolicy is installed \(validatingAdmissionPolicy\.enabled=auto, and the cluster does not serve/);
  });

  test('auto with --api-versions (or a cluster that serves the API): the policy and binding, no warning', async () => {
    const r = await helm(templateArgs(undefined, NEW_CLUSTER));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(policies(parseManifests(r.stdout)).map((o) => o.kind), ['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
    assert.doesNotMatch(r.stdout, WARNING);
    // The documented offline form: just the flag, helm's default Kubernetes version.
    const flagged = await offline(['--api-versions', VAP_API]);
    assert.equal(policies(flagged.objects).length, 2);
    assert.doesNotMatch(flagged.stdout, WARNING);
  });

  test('true renders the policy offline, identical to auto on a cluster with the API, and valid', async () => {
    const forced = await offline(['--set', 'validatingAdmissionPolicy.enabled=true']);
    const forcedString = await offline(['--set-string', 'validatingAdmissionPolicy.enabled=true']);
    const auto = await offline(['--api-versions', VAP_API]);
    assert.equal(policies(forced.objects).length, 2);
    assert.deepEqual(policies(forced.objects), policies(auto.objects));
    assert.deepEqual(policies(forcedString.objects), policies(forced.objects));
    assert.deepEqual(policies(forced.objects).map(schemaErrors).filter(Boolean), []);
    assert.doesNotMatch(forced.stdout, WARNING);
    assert.match(await notes(['--set', 'validatingAdmissionPolicy.enabled=true']), /A ValidatingAdmissionPolicy rejects every opted-in pod/);
  });

  test('true below Kubernetes 1.30 fails, naming the value and the version', async () => {
    const r = await helm(templateArgs(undefined, OLD_CLUSTER, ['--set', 'validatingAdmissionPolicy.enabled=true']));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /validatingAdmissionPolicy\.enabled=true renders admissionregistration\.k8s\.io\/v1, which Kubernetes v1\.29\.0 does not serve/);
  });

  test('false: never rendered, even with the API; no warning comment; NOTES warn', async () => {
    const r = await helm(templateArgs(undefined, NEW_CLUSTER, ['--set', 'validatingAdmissionPolicy.enabled=false']));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(policies(parseManifests(r.stdout)), []);
    assert.doesNotMatch(r.stdout, /WARNING/);
    assert.match(await notes(['--set', 'validatingAdmissionPolicy.enabled=false']), /WARNING: no ValidatingAdmissionPolicy is installed \(validatingAdmissionPolicy\.enabled=false\)/);
  });

  test('anything else is a schema error naming the key', async () => {
    const r = await helm(templateArgs(undefined, NEW_CLUSTER, ['--set', 'validatingAdmissionPolicy.enabled=yes']));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /at '\/validatingAdmissionPolicy\/enabled': value must be one of 'auto', 'true', 'false', true, false/);
  });
});
