{{- define "cubestore.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cubestore.fullname" -}}
{{- $name := .Values.nameOverride | default .Chart.Name -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "cubestore.selector" -}}
app.kubernetes.io/name: {{ include "cubestore.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cubestore.objectLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "cubestore.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* "router" -> "<fullname>-router" when created, else the named one or "default";
     likewise "workers". */}}
{{- define "cubestore.serviceAccountName" -}}
{{- $ := index . 0 -}}
{{- $role := index . 1 -}}
{{- $sa := (index $.Values $role).serviceAccount -}}
{{- if $sa.create -}}
{{- $sa.name | default (printf "%s-%s" (include "cubestore.fullname" $) $role) -}}
{{- else -}}
{{- $sa.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "cubestore.image" -}}
{{- if .Values.image.tag -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- else -}}
{{ .Values.image.repository }}:v{{ .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* True (non-empty) when no cloud bucket is configured: then a shared PVC is the remote dir. */}}
{{- define "cubestore.localRemote" -}}
{{- $c := .Values.cloudStorage -}}
{{- if not (or $c.gcp.bucket $c.aws.bucket $c.minio.bucket) }}yes{{ end -}}
{{- end -}}

{{- define "cubestore.secretEnv" -}}
{{- $name := index . 0 -}}
{{- $ref := index . 1 -}}
{{- $what := index . 2 -}}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "%s.name is required" $what) $ref.name }}
      key: {{ required (printf "%s.key is required" $what) $ref.key }}
{{- end -}}

{{/* Environment router and workers share: logging, telemetry, and the remote storage. */}}
{{- define "cubestore.env" -}}
{{- $aws := .Values.cloudStorage.aws -}}
{{- $minio := .Values.cloudStorage.minio -}}
{{- if .Values.config.logLevel }}
- name: CUBESTORE_LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
{{- end }}
- name: CUBESTORE_TELEMETRY
  value: {{ .Values.config.telemetry | quote }}
{{- if $aws.accessKeyID }}
- name: CUBESTORE_AWS_ACCESS_KEY_ID
  value: {{ $aws.accessKeyID | quote }}
{{- else if $aws.accessKeyIDFromSecret }}
{{ include "cubestore.secretEnv" (list "CUBESTORE_AWS_ACCESS_KEY_ID" $aws.accessKeyIDFromSecret "cloudStorage.aws.accessKeyIDFromSecret") }}
{{- end }}
{{- if $aws.secretKey }}
- name: CUBESTORE_AWS_SECRET_ACCESS_KEY
  value: {{ $aws.secretKey | quote }}
{{- else if $aws.secretKeyFromSecret }}
{{ include "cubestore.secretEnv" (list "CUBESTORE_AWS_SECRET_ACCESS_KEY" $aws.secretKeyFromSecret "cloudStorage.aws.secretKeyFromSecret") }}
{{- end }}
{{- range $pair := list (list "bucket" "CUBESTORE_S3_BUCKET") (list "region" "CUBESTORE_S3_REGION") (list "subPath" "CUBESTORE_S3_SUB_PATH") }}
{{- with index $aws (index $pair 0) }}
- name: {{ index $pair 1 }}
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- if $minio.accessKeyID }}
- name: CUBESTORE_MINIO_ACCESS_KEY_ID
  value: {{ $minio.accessKeyID | quote }}
{{- end }}
{{- if $minio.secretKey }}
- name: CUBESTORE_MINIO_SECRET_ACCESS_KEY
  value: {{ $minio.secretKey | quote }}
{{- else if $minio.secretKeyFromSecret }}
{{ include "cubestore.secretEnv" (list "CUBESTORE_MINIO_SECRET_ACCESS_KEY" $minio.secretKeyFromSecret "cloudStorage.minio.secretKeyFromSecret") }}
{{- end }}
{{- range $pair := list (list "bucket" "CUBESTORE_MINIO_BUCKET") (list "region" "CUBESTORE_MINIO_REGION") (list "subPath" "CUBESTORE_MINIO_SUB_PATH") (list "endpoint" "CUBESTORE_MINIO_SERVER_ENDPOINT") }}
{{- with index $minio (index $pair 0) }}
- name: {{ index $pair 1 }}
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "cubestore.workerList" -}}
{{- $fullname := include "cubestore.fullname" . -}}
{{- $port := .Values.workers.port | int -}}
{{- $names := list -}}
{{- range $i := until (.Values.workers.workersCount | int) -}}
{{- $names = append $names (printf "%s-workers-%d.%s-headless:%d" $fullname $i $fullname $port) -}}
{{- end -}}
{{- join "," $names -}}
{{- end -}}

{{- define "cubestore.exporter" -}}
- name: statsd-exporter
  image: "{{ .Values.exporter.image.repository }}:{{ .Values.exporter.image.tag }}"
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args:
    - --web.listen-address=0.0.0.0:{{ .Values.exporter.service.port }}
    - --web.telemetry-path={{ .Values.exporter.service.path }}
    - --statsd.mapping-config=/etc/prometheus-statsd-exporter/statsd-mapping.conf
  ports:
    - name: http-metrics
      containerPort: {{ .Values.exporter.service.port }}
      protocol: TCP
  resources:
    {{- toYaml .Values.exporter.resources | nindent 4 }}
  volumeMounts:
    - name: statsd-mapping-config
      mountPath: /etc/prometheus-statsd-exporter
{{- end -}}
