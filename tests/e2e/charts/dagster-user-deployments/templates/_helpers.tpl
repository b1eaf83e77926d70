{{- define "dagster.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* (global.)fullnameOverride, else the release alone when it contains the chart name, else
     "<release>-<chart>". */}}
{{- define "dagster.fullname" -}}
{{- $global := .Values.global | default dict -}}
{{- $override := $global.fullnameOverride | default .Values.fullnameOverride -}}
{{- $name := $global.nameOverride | default .Values.nameOverride | default .Chart.Name -}}
{{- if $override -}}
{{- $override | trunc 63 | trimSuffix "-" -}}
{{- else if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "dagster.chartLabel" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dagster.selector" -}}
app.kubernetes.io/name: {{ include "dagster.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "dagster.objectLabels" -}}
helm.sh/chart: {{ include "dagster.chartLabel" . }}
{{ include "dagster.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "dagster.legacyLabels" -}}
app: {{ include "dagster.name" . }}
chart: {{ include "dagster.chartLabel" . }}
release: {{ .Release.Name }}
heritage: {{ .Release.Service }}
{{- end -}}

{{/* global.serviceAccountName, else serviceAccount.name, else "<fullname>-user-deployments". */}}
{{- define "dagster.serviceAccountName" -}}
{{- $global := .Values.global | default dict -}}
{{- $global.serviceAccountName | default .Values.serviceAccount.name | default (printf "%s-user-deployments" (include "dagster.fullname" .)) -}}
{{- end -}}

{{- define "dagster.postgresSecret" -}}
{{- $global := .Values.global | default dict -}}
{{- $global.postgresqlSecretName | default .Values.postgresqlSecretName -}}
{{- end -}}

{{/* repository:tag; the tag defaults to the chart version. */}}
{{- define "dagster.image" -}}
{{- $ := index . 0 -}}
{{- $img := index . 1 -}}
{{- printf "%s:%s" $img.repository ($img.tag | default $.Chart.Version | toString) -}}
{{- end -}}

{{/* The container context a code server hands to the runs it launches (JSON in an env var). */}}
{{- define "dagster.containerContext" -}}
{{- $ := index . 0 -}}
{{- $d := index . 1 -}}
{{- $configMaps := list (printf "%s-%s-user-env" (include "dagster.fullname" $) $d.name) -}}
{{- range $d.envConfigMaps }}{{ if hasKey . "name" }}{{ $configMaps = append $configMaps .name }}{{ end }}{{ end -}}
{{- $secrets := list -}}
{{- range $d.envSecrets }}{{ if hasKey . "name" }}{{ $secrets = append $secrets .name }}{{ end }}{{ end -}}
{{- $k8s := dict "image_pull_policy" $d.image.pullPolicy "env_config_maps" $configMaps "namespace" $.Release.Namespace "service_account_name" (include "dagster.serviceAccountName" $) -}}
{{- if $secrets }}{{ $_ := set $k8s "env_secrets" $secrets }}{{ end -}}
{{- with $d.volumeMounts }}{{ $_ := set $k8s "volume_mounts" . }}{{ end -}}
{{- with $d.volumes }}{{ $_ := set $k8s "volumes" . }}{{ end -}}
{{- with $d.labels }}{{ $_ := set $k8s "labels" . }}{{ end -}}
{{- with $d.resources }}{{ $_ := set $k8s "resources" . }}{{ end -}}
{{- if kindIs "slice" $d.env }}{{ with $d.env }}{{ $_ := set $k8s "env" . }}{{ end }}{{ end -}}
{{- dict "k8s" $k8s | toJson -}}
{{- end -}}
