{{- define "jaeger.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* fullnameOverride, else the release alone when it contains the chart name, else
     "<release>-<name>". */}}
{{- define "jaeger.fullname" -}}
{{- $name := .Values.nameOverride | default .Chart.Name -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The selector of every workload and Service: name and instance only (the component label
     is added next to it by each template). */}}
{{- define "jaeger.selector" -}}
app.kubernetes.io/name: {{ include "jaeger.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "jaeger.objectLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "jaeger.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* registry/repository:tag (or @digest); the tag defaults to the chart's appVersion. */}}
{{- define "jaeger.image" -}}
{{- $img := .Values.jaeger.image -}}
{{- $registry := .Values.global.imageRegistry | default $img.registry -}}
{{- $repo := $img.repository -}}
{{- if $registry -}}{{- $repo = printf "%s/%s" $registry $img.repository -}}{{- end -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo ($img.tag | default .Chart.AppVersion | toString) -}}
{{- end -}}
{{- end -}}
