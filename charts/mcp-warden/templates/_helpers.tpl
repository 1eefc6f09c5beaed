{{/*
The name in object names: "mcp-warden", or nameOverride. Labels keep app.kubernetes.io/name:
mcp-warden whatever it is: the webhook recognises its own pods by that label, and the webhook
configuration's objectSelector keeps the chart's pods out by it.
*/}}
{{- define "mcp-warden.name" -}}
{{- default "mcp-warden" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Full name of the release's objects, at most 63 characters (DNS label).
*/}}
{{- define "mcp-warden.fullname" -}}
{{- $name := include "mcp-warden.name" . -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The namespace of every namespaced object: the release's, or namespaceOverride. */}}
{{- define "mcp-warden.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride -}}
{{- end -}}

{{/* Service name; the serving certificate names it. */}}
{{- define "mcp-warden.serviceName" -}}
{{- printf "%s-webhook" (include "mcp-warden.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The MutatingWebhookConfiguration's name (cluster-scoped, so it carries the release name). */}}
{{- define "mcp-warden.webhookConfigName" -}}
{{- include "mcp-warden.fullname" . -}}
{{- end -}}

{{/* Name of the Secret holding the serving certificate, for every TLS mode. */}}
{{- define "mcp-warden.tlsSecretName" -}}
{{- if eq .Values.tls.mode "provided" -}}
{{- required "tls.provided.secretName is required when tls.mode is provided" .Values.tls.provided.secretName -}}
{{- else -}}
{{- printf "%s-webhook-tls" (include "mcp-warden.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "mcp-warden.serviceAccountName" -}}
{{- default (include "mcp-warden.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "mcp-warden.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: mcp-warden
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of the webhook pods (the contract names the first and the last). */}}
{{- define "mcp-warden.selectorLabels" -}}
app.kubernetes.io/name: mcp-warden
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end -}}

{{/*
image reference: [registry/]repository, then @digest or :tag (tag defaults to appVersion). The
registry is optional so a mirror can be set once without repeating the repository path. Call with
(list .Values.image . "image"): the last item names the values key in errors.
*/}}
{{- define "mcp-warden.imageRef" -}}
{{- $img := index . 0 -}}
{{- $root := index . 1 -}}
{{- $key := index . 2 -}}
{{- $repo := $img.repository -}}
{{- with $img.registry -}}
{{- /* A first path part with a dot, a colon or "localhost" is a registry host (Docker's rule):
       a repository written the old way, as the whole image name, would end up under the
       registry twice over. */ -}}
{{- $first := first (splitList "/" $img.repository) -}}
{{- if and (contains "/" $img.repository) (or (contains "." $first) (contains ":" $first) (eq $first "localhost")) -}}
{{- fail (printf "%s.repository %q starts with a registry host (%s) and %s.registry is set too (%q): give the registry in %s.registry only, or set %s.registry to \"\"" $key $img.repository $first $key . $key $key) -}}
{{- end -}}
{{- $repo = printf "%s/%s" (trimSuffix "/" .) $img.repository -}}
{{- end -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default $root.Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* Namespaces never matched: the system ones, the release's own and the user's extras. */}}
{{- define "mcp-warden.excludedNamespaces" -}}
{{- $ns := list "kube-system" "kube-public" "kube-node-lease" (include "mcp-warden.namespace" .) -}}
{{- range .Values.webhook.excludeNamespaces -}}
{{- $ns = append $ns . -}}
{{- end -}}
{{- toYaml (uniq $ns) -}}
{{- end -}}

{{/*
namespaceSelector. kubernetes.io/metadata.name is set by the API server on every namespace
(immutable, Kubernetes >= 1.21), so NotIn on it cannot be dodged by relabelling a namespace.
Call with (list . true) to add webhook.namespaceLabels: the webhook honours them, the policy does
not, so an opted-in pod in a namespace without those labels is refused instead of running
unprotected.
*/}}
{{- define "mcp-warden.namespaceSelector" -}}
{{- $root := index . 0 -}}
{{- $withLabels := index . 1 -}}
{{- if and $withLabels $root.Values.webhook.namespaceLabels }}
matchLabels:
  {{- toYaml $root.Values.webhook.namespaceLabels | nindent 2 }}
{{- end }}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values:
      {{- include "mcp-warden.excludedNamespaces" $root | nindent 6 }}
{{- end -}}

{{/* objectSelector: never the chart's own pods (webhook, helm test). */}}
{{- define "mcp-warden.objectSelectorExpressions" -}}
- key: app.kubernetes.io/name
  operator: NotIn
  values:
    - mcp-warden
{{- end -}}

{{/*
CEL: the pod opts in. Same rule as the webhook (webhook/inject/annotations.ts): the annotation
mcp-warden.dev/inject wins when it says "true" or "false" (trimmed, any case), else the label of the
same name decides. Only standard CEL and the strings extension (trim, lowerAscii), which the API
server provides; no optional (?.) syntax.
*/}}
{{- define "mcp-warden.celOptIn" -}}
(has(object.metadata.annotations) && 'mcp-warden.dev/inject' in object.metadata.annotations && object.metadata.annotations['mcp-warden.dev/inject'].trim().lowerAscii() in ['true', 'false']) ? object.metadata.annotations['mcp-warden.dev/inject'].trim().lowerAscii() == 'true' : (has(object.metadata.labels) && 'mcp-warden.dev/inject' in object.metadata.labels && object.metadata.labels['mcp-warden.dev/inject'].lowerAscii() == 'true')
{{- end -}}

{{/* CEL: the pod carries the injected sidecar, as a container or as a native sidecar. */}}
{{- define "mcp-warden.celHasSidecar" -}}
object.spec.containers.exists(c, c.name == 'mcp-warden-sidecar') || (has(object.spec.initContainers) && object.spec.initContainers.exists(c, c.name == 'mcp-warden-sidecar' && has(c.restartPolicy) && c.restartPolicy == 'Always'))
{{- end -}}

{{/*
validatingAdmissionPolicy.enabled as a string: "auto", "true" or "false" (the schema allows
booleans too).
*/}}
{{- define "mcp-warden.policyMode" -}}
{{- toString .Values.validatingAdmissionPolicy.enabled -}}
{{- end -}}

{{/* Whether the cluster, as this rendering sees it, serves the v1 ValidatingAdmissionPolicy API. */}}
{{- define "mcp-warden.policyApiServed" -}}
{{- if .Capabilities.APIVersions.Has "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy" -}}true{{- end -}}
{{- end -}}

{{/*
"true" when the policy is rendered: always with "true", with "auto" only where the API is served.
`helm template` without a cluster serves no API unless told with --api-versions, so "auto"
renders a warning instead (validatingadmissionpolicy.yaml).
*/}}
{{- define "mcp-warden.renderPolicy" -}}
{{- $mode := include "mcp-warden.policyMode" . -}}
{{- if or (eq $mode "true") (and (eq $mode "auto") (include "mcp-warden.policyApiServed" .)) -}}true{{- end -}}
{{- end -}}

{{/* Does the pod need a ServiceAccount token (API calls: self-managed TLS or /version)? */}}
{{- define "mcp-warden.needsToken" -}}
{{- if or (eq .Values.tls.mode "self-managed") (eq (toString .Values.nativeSidecar) "auto") -}}true{{- end -}}
{{- end -}}

{{/* Webhook config file (the contract in notes/webhook-contract.md). */}}
{{- define "mcp-warden.config" -}}
{{- if ge (int .Values.tls.renewBeforeDays) (int .Values.tls.validityDays) }}
{{- fail (printf "tls.renewBeforeDays (%v) must be fewer than tls.validityDays (%v)" .Values.tls.renewBeforeDays .Values.tls.validityDays) }}
{{- end }}
{{- /* The sidecar's and the stdio bridge's ports share each pod's network namespace: every pair
       must differ, or the webhook refuses its config.yaml at start. Every clash, named. */}}
{{- $ports := list (list "sidecar.listenPort" .Values.sidecar.listenPort) (list "sidecar.adminPort" .Values.sidecar.adminPort) (list "sidecar.stdioListenPort" .Values.sidecar.stdioListenPort) (list "sidecar.stdioAdminPort" .Values.sidecar.stdioAdminPort) }}
{{- $clashes := list }}
{{- range $i, $a := $ports }}
{{- range $j, $b := $ports }}
{{- if and (lt $j $i) (eq (int (index $a 1)) (int (index $b 1))) }}
{{- $clashes = append $clashes (printf "%s (%v) must differ from %s" (index $a 0) (int (index $a 1)) (index $b 0)) }}
{{- end }}
{{- end }}
{{- end }}
{{- with $clashes }}
{{- fail (printf "%s: the sidecar's and the stdio bridge's ports share the pod's network" (join "; " .)) }}
{{- end }}
server:
  port: {{ .Values.webhook.port }}
tls:
  mode: {{ ternary "self-managed" "provided" (eq .Values.tls.mode "self-managed") }}
  certFile: /etc/mcp-warden/tls/tls.crt
  keyFile: /etc/mcp-warden/tls/tls.key
  secretName: {{ include "mcp-warden.tlsSecretName" . }}
  serviceName: {{ include "mcp-warden.serviceName" . }}
  webhookConfigName: {{ include "mcp-warden.webhookConfigName" . }}
  validityDays: {{ .Values.tls.validityDays }}
  renewBeforeDays: {{ .Values.tls.renewBeforeDays }}
nativeSidecar: {{ toString .Values.nativeSidecar | quote }}
excludeNamespaces:
  {{- $ns := list "kube-system" "kube-public" "kube-node-lease" }}
  {{- range .Values.webhook.excludeNamespaces }}{{ $ns = append $ns . }}{{ end }}
  {{- toYaml (uniq $ns) | nindent 2 }}
sidecar:
  image: {{ include "mcp-warden.imageRef" (list .Values.sidecar.image . "sidecar.image") }}
  imagePullPolicy: {{ .Values.sidecar.image.pullPolicy }}
  resources:
    {{- toYaml .Values.sidecar.resources | nindent 4 }}
  listenPort: {{ .Values.sidecar.listenPort }}
  adminPort: {{ .Values.sidecar.adminPort }}
  stdioListenPort: {{ .Values.sidecar.stdioListenPort }}
  stdioAdminPort: {{ .Values.sidecar.stdioAdminPort }}
  {{- /* int64: helm reads numbers from values files as float64, which print as 1.00065e+09 */}}
  runAsUser: {{ if kindIs "invalid" .Values.sidecar.runAsUser }}null{{ else }}{{ int64 .Values.sidecar.runAsUser }}{{ end }}
  env:
    {{- toYaml .Values.sidecar.env | nindent 4 }}
  redisPasswordSecret: {{ .Values.sidecar.redisPasswordSecret | quote }}
{{- end -}}
