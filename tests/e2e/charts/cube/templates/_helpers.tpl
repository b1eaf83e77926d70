{{- define "cube.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cube.fullname" -}}
{{- $name := .Values.nameOverride | default .Chart.Name -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "cube.selector" -}}
app.kubernetes.io/name: {{ include "cube.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "cube.objectLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "cube.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Service account of a component ("api" or "worker"): "<fullname>-<component>" when created,
     else the named one or "default". */}}
{{- define "cube.serviceAccountName" -}}
{{- $ := index . 0 -}}
{{- $component := index . 1 -}}
{{- $sa := (index $.Values $component).serviceAccount -}}
{{- if $sa.create -}}
{{- $sa.name | default (printf "%s-%s" (include "cube.fullname" $) $component) -}}
{{- else -}}
{{- $sa.name | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "cube.image" -}}
{{- if .Values.image.tag -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- else -}}
{{ .Values.image.repository }}:v{{ .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* An env name for a data source: CUBEJS_X for `default`, CUBEJS_DS_<NAME>_X otherwise. */}}
{{- define "cube.dsEnv" -}}
{{- $key := index . 0 -}}
{{- $ds := index . 1 -}}
{{- if eq $ds "default" -}}
{{- $key -}}
{{- else -}}
{{- printf "CUBEJS_DS_%s_%s" (upper $ds) (trimPrefix "CUBEJS_" $key) -}}
{{- end -}}
{{- end -}}

{{- define "cube.secretEnv" -}}
{{- $name := index . 0 -}}
{{- $ref := index . 1 -}}
{{- $what := index . 2 -}}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "%s.name is required" $what) $ref.name }}
      key: {{ required (printf "%s.key is required" $what) $ref.key }}
{{- end -}}

{{/* The environment both Deployments share: server settings, Cube Store, data sources. Only
     the settings floe-infra can reach are mirrored. */}}
{{- define "cube.env" -}}
{{- $c := .Values.config -}}
- name: PORT
  value: {{ $c.apiPort | quote }}
{{- if $c.devMode }}
- name: CUBEJS_DEV_MODE
  value: {{ $c.devMode | quote }}
{{- end }}
{{- if $c.logLevel }}
- name: CUBEJS_LOG_LEVEL
  value: {{ $c.logLevel | quote }}
{{- end }}
- name: CUBEJS_TELEMETRY
  value: {{ $c.telemetry | quote }}
{{- if $c.apiSecret }}
- name: CUBEJS_API_SECRET
  value: {{ $c.apiSecret | quote }}
{{- else if $c.apiSecretFromSecret }}
{{ include "cube.secretEnv" (list "CUBEJS_API_SECRET" $c.apiSecretFromSecret "config.apiSecretFromSecret") }}
{{- end }}
{{- if $c.schemaPath }}
- name: CUBEJS_SCHEMA_PATH
  value: {{ $c.schemaPath | quote }}
{{- end }}
{{- if .Values.cubestore.host }}
- name: CUBEJS_CUBESTORE_HOST
  value: {{ .Values.cubestore.host | quote }}
{{- end }}
{{- if .Values.cubestore.port }}
- name: CUBEJS_CUBESTORE_PORT
  value: {{ .Values.cubestore.port | quote }}
{{- end }}
{{- $names := list }}
{{- range $ds, $cfg := .Values.datasources }}
{{- $names = append $names $ds }}
{{- if not $cfg.type }}
{{- fail (printf "database.%s.type is required" $ds) }}
{{- end }}
- name: {{ include "cube.dsEnv" (list "CUBEJS_DB_TYPE" $ds) }}
  value: {{ $cfg.type | quote }}
{{- if eq $cfg.type "duckdb" }}
{{- /* Field paths as upstream reads them: `duckdb.s3` must exist (a DuckDB block without `s3`
       is a template error upstream), the URL style key is `URLStyle`, and the Secret variant of
       the secret key reads the wrong block upstream, so it cannot be used. */}}
{{- range $field := list (list "memoryLimit" "CUBEJS_DB_DUCKDB_MEMORY_LIMIT") (list "schema" "CUBEJS_DB_DUCKDB_SCHEMA") (list "databasePath" "CUBEJS_DB_DUCKDB_DATABASE_PATH") }}
{{- with index ($cfg.duckdb | default dict) (index $field 0) }}
- name: {{ include "cube.dsEnv" (list (index $field 1) $ds) }}
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- $s3 := required (printf "STAND-IN cube: datasources.%s.duckdb.s3 must be set (upstream 3.3.0 fails rendering with a nil pointer without it)" $ds) ($cfg.duckdb | default dict).s3 }}
{{- if and (not $s3.secretAccessKey) $s3.secretAccessKeyFromSecret }}
{{- fail (printf "STAND-IN cube: datasources.%s.duckdb.s3.secretAccessKeyFromSecret cannot render upstream (3.3.0 reads .bigquery.s3 there)" $ds) }}
{{- end }}
{{- range $field := list (list "accessKeyId" "CUBEJS_DB_DUCKDB_S3_ACCESS_KEY_ID") (list "secretAccessKey" "CUBEJS_DB_DUCKDB_S3_SECRET_ACCESS_KEY") (list "endpoint" "CUBEJS_DB_DUCKDB_S3_ENDPOINT") (list "region" "CUBEJS_DB_DUCKDB_S3_REGION") (list "useSSL" "CUBEJS_DB_DUCKDB_S3_USE_SSL") (list "URLStyle" "CUBEJS_DB_DUCKDB_S3_URL_STYLE") (list "sessionToken" "CUBEJS_DB_DUCKDB_S3_SESSION_TOKEN") }}
{{- with index $s3 (index $field 0) }}
- name: {{ include "cube.dsEnv" (list (index $field 1) $ds) }}
  value: {{ . | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- if gt (len $names) 1 }}
- name: CUBEJS_DATASOURCES
  value: {{ join "," $names | quote }}
{{- end }}
{{- end -}}

{{/* Probes of a component; `port: http` is the named container port. */}}
{{- define "cube.probes" -}}
{{- $p := index . 0 -}}
{{- range $kind, $path := dict "livenessProbe" "/livez" "readinessProbe" "/readyz" }}
{{- $probe := index $p $kind }}
{{- if $probe.enabled }}
{{ $kind }}:
  initialDelaySeconds: {{ $probe.initialDelaySeconds }}
  periodSeconds: {{ $probe.periodSeconds }}
  timeoutSeconds: {{ $probe.timeoutSeconds }}
  successThreshold: {{ $probe.successThreshold }}
  failureThreshold: {{ $probe.failureThreshold }}
  httpGet:
    path: {{ $path }}
    port: http
{{- end }}
{{- end }}
{{- end -}}
