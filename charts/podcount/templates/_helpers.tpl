{{- define "podcount.name" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "podcount.selectorLabels" -}}
app.kubernetes.io/name: kubectl-podcount
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "podcount.labels" -}}
{{ include "podcount.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "podcount.tlsSecret" -}}
{{- if .Values.tls.existingSecret -}}
{{ .Values.tls.existingSecret }}
{{- else if .Values.tls.certManager.enabled -}}
{{ include "podcount.name" . }}-tls
{{- end -}}
{{- end -}}
