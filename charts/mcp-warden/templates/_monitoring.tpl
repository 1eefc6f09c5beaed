{{/* Helpers of the monitoring pack (PodMonitor, PrometheusRule, dashboard). */}}

{{/* The job label of every sidecar target: the PodMonitor sets it; the alerts and the dashboard select it. */}}
{{- define "mcp-warden.sidecarJob" -}}
mcp-warden-sidecar
{{- end -}}

{{/* The webhook's job label: prometheus-operator names a ServiceMonitor's job after the Service. */}}
{{- define "mcp-warden.webhookJob" -}}
{{- include "mcp-warden.serviceName" . -}}
{{- end -}}

{{/*
An alert's runbook annotations: runbook_url when monitoring.prometheusRule.runbookBaseUrl is set,
always a "runbook" pointer to the README section (GitHub-style anchor: the heading in lower case).
*/}}
{{- define "mcp-warden.runbook" -}}
{{- $root := index . 0 -}}
{{- $alert := index . 1 -}}
{{- with $root.Values.monitoring.prometheusRule.runbookBaseUrl }}
runbook_url: {{ printf "%s#%s" . (lower $alert) | quote }}
{{- end }}
runbook: {{ printf "charts/mcp-warden/README.md, Runbook: %s" $alert | quote }}
{{- end -}}
