{{/* Chart name: nameOverride or the chart's own name. */}}
{{- define "minio.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name: fullnameOverride, else the release name alone when it already contains the
     chart name, else "<release>-<name>". */}}
{{- define "minio.fullname" -}}
{{- $name := .Values.nameOverride | default .Chart.Name -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "minio.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Old-style labels every object carries (no app.kubernetes.io/* keys upstream). */}}
{{- define "minio.objectLabels" -}}
app: {{ include "minio.name" . }}
chart: {{ include "minio.chart" . }}
release: {{ .Release.Name }}
heritage: {{ .Release.Service }}
{{- end -}}

{{/* The only labels selectors use. */}}
{{- define "minio.selector" -}}
app: {{ include "minio.name" . }}
release: {{ .Release.Name }}
{{- end -}}

{{- define "minio.secretName" -}}
{{- .Values.existingSecret | default (include "minio.fullname" .) -}}
{{- end -}}

{{/* One Service of the two (API or console): NodePort pins nodePort and then omits targetPort,
     as upstream does. */}}
{{- define "minio.servicePort" -}}
{{- $svc := index . 0 -}}
{{- $target := index . 1 -}}
- name: http
  port: {{ $svc.port }}
  protocol: TCP
  {{- if and (eq $svc.type "NodePort") $svc.nodePort }}
  nodePort: {{ $svc.nodePort }}
  {{- else }}
  targetPort: {{ $target }}
  {{- end }}
{{- end -}}

{{/* A container of the post-install Job (one per kind of work). */}}
{{- define "minio.jobContainer" -}}
{{- $ := index . 0 -}}
{{- $name := index . 1 -}}
{{- $script := index . 2 -}}
{{- $job := index . 3 -}}
- name: {{ $name }}
  image: "{{ $.Values.mcImage.repository }}:{{ $.Values.mcImage.tag }}"
  imagePullPolicy: {{ $.Values.mcImage.pullPolicy }}
  command: ["/bin/sh", "/config/{{ $script }}"]
  env:
    - name: MINIO_ENDPOINT
      value: {{ include "minio.fullname" $ }}
    - name: MINIO_PORT
      value: {{ $.Values.service.port | quote }}
  volumeMounts:
    - name: etc-path
      mountPath: /etc/minio/mc
    - name: tmp
      mountPath: /tmp
    - name: minio-configuration
      mountPath: /config
  resources: {{- toYaml $job.resources | nindent 4 }}
{{- end -}}
