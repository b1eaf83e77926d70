{{- define "dagster.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* global.fullnameOverride, else the release alone when it contains "dagster" (or
     global.nameOverride), else "<release>-dagster". */}}
{{- define "dagster.fullname" -}}
{{- $global := .Values.global | default dict -}}
{{- $name := $global.nameOverride | default .Chart.Name -}}
{{- if $global.fullnameOverride -}}
{{- $global.fullnameOverride | trunc 63 | trimSuffix "-" -}}
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

{{/* The older label set upstream keeps on ConfigMaps, Role and RoleBinding. */}}
{{- define "dagster.legacyLabels" -}}
app: {{ include "dagster.name" . }}
chart: {{ include "dagster.chartLabel" . }}
release: {{ .Release.Name }}
heritage: {{ .Release.Service }}
{{- end -}}

{{/* The webserver's objects are "<release>-<dagsterWebserver.nameOverride>" (not fullname). */}}
{{- define "dagster.webserverName" -}}
{{- printf "%s-%s" .Release.Name (.Values.dagsterWebserver.nameOverride | default "webserver") | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dagster.serviceAccountName" -}}
{{- .Values.global.serviceAccountName | default .Values.serviceAccount.name | default (include "dagster.fullname" .) -}}
{{- end -}}

{{- define "dagster.postgresSecret" -}}
{{- .Values.global.postgresqlSecretName | default (printf "%s-postgresql-secret" (include "dagster.fullname" .)) -}}
{{- end -}}

{{- define "dagster.postgresHost" -}}
{{- if .Values.postgresql.enabled -}}
{{- .Values.postgresql.postgresqlHost | default (printf "%s-postgresql" .Release.Name) -}}
{{- else -}}
{{- .Values.postgresql.postgresqlHost -}}
{{- end -}}
{{- end -}}

{{/* repository:tag (or @digest); the tag defaults to the chart version. */}}
{{- define "dagster.image" -}}
{{- $ := index . 0 -}}
{{- $img := index . 1 -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $img.repository $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $img.repository ($img.tag | default $.Chart.Version | toString) -}}
{{- end -}}
{{- end -}}

{{- define "dagster.workspaceConfigMap" -}}
{{- $ws := .Values.dagsterWebserver.workspace -}}
{{- if and $ws.enabled $ws.externalConfigmap -}}
{{- $ws.externalConfigmap -}}
{{- else -}}
{{- include "dagster.fullname" . }}-workspace-yaml
{{- end -}}
{{- end -}}

{{/* Waits for PostgreSQL, as upstream's init container does (kwok never runs it). */}}
{{- define "dagster.checkDbReady" -}}
{{- $ := index . 0 -}}
{{- $securityContext := index . 1 -}}
{{- $img := $.Values.postgresql.image -}}
- name: check-db-ready
  image: "{{ $img.registry }}/{{ $img.repository }}:{{ $img.tag }}"
  imagePullPolicy: {{ $img.pullPolicy }}
  command:
    - sh
    - -c
    - {{ printf "until pg_isready -h %s -p %v -U %s; do echo waiting for database; sleep 2; done;" (include "dagster.postgresHost" $) $.Values.postgresql.service.port $.Values.postgresql.postgresqlUsername | quote }}
  securityContext:
    {{- toYaml $securityContext | nindent 4 }}
{{- end -}}

{{/* Env ConfigMap data shared by the webserver, daemon and run pods. */}}
{{- define "dagster.sharedEnv" -}}
DAGSTER_HOME: {{ .Values.global.dagsterHome | quote }}
DAGSTER_K8S_PIPELINE_RUN_NAMESPACE: {{ .Release.Namespace | quote }}
DAGSTER_K8S_PIPELINE_RUN_ENV_CONFIGMAP: "{{ include "dagster.fullname" . }}-pipeline-env"
DAGSTER_K8S_PIPELINE_RUN_IMAGE: {{ include "dagster.image" (list . .Values.pipelineRun.image) | quote }}
DAGSTER_K8S_PIPELINE_RUN_IMAGE_PULL_POLICY: {{ .Values.pipelineRun.image.pullPolicy | quote }}
{{- end -}}

{{/* envFrom of a Dagster component: its own env ConfigMap, then the listed ConfigMaps and
     Secrets (each item a ConfigMapEnvSource/SecretEnvSource object). */}}
{{- define "dagster.envFrom" -}}
{{- $ := index . 0 -}}
{{- $own := index . 1 -}}
{{- $cfg := index . 2 -}}
- configMapRef:
    name: {{ include "dagster.fullname" $ }}-{{ $own }}
{{- range $cfg.envConfigMaps }}
- configMapRef:
    {{- toYaml . | nindent 4 }}
{{- end }}
{{- range $cfg.envSecrets }}
- secretRef:
    {{- toYaml . | nindent 4 }}
{{- end }}
{{- if eq $.Values.runLauncher.type "CeleryK8sRunLauncher" }}
- secretRef:
    name: {{ $.Values.global.celeryConfigSecretName }}
{{- end }}
{{- end -}}
