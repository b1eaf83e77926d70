{{- define "polaris.name" -}}
{{- .Values.nameOverride | default .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The base name, cut to `max` characters: fullnameOverride, else the release alone when it
     contains the chart name, else "<release>-<name>". */}}
{{- define "polaris.base" -}}
{{- $ := index . 0 -}}
{{- $max := index . 1 | int -}}
{{- $name := $.Values.nameOverride | default $.Chart.Name -}}
{{- $base := printf "%s-%s" $.Release.Name $name -}}
{{- if $.Values.fullnameOverride -}}
{{- $base = $.Values.fullnameOverride -}}
{{- else if contains $name $.Release.Name -}}
{{- $base = $.Release.Name -}}
{{- end -}}
{{- $base | trunc $max | trimSuffix "-" -}}
{{- end -}}

{{- define "polaris.fullname" -}}
{{- include "polaris.base" (list . 63) -}}
{{- end -}}

{{/* fullname + "-suffix" (a leading hyphen is added when missing), the base shortened so the
     whole stays within 63 characters. */}}
{{- define "polaris.withSuffix" -}}
{{- $ := index . 0 -}}
{{- $suffix := index . 1 -}}
{{- if not (hasPrefix "-" $suffix) }}{{ $suffix = print "-" $suffix }}{{ end -}}
{{- $room := sub 63 (len $suffix) | int -}}
{{- if lt $room 0 }}{{ $room = 0 }}{{ end -}}
{{- include "polaris.base" (list $ $room) -}}{{ $suffix }}
{{- end -}}

{{- define "polaris.selector" -}}
app.kubernetes.io/name: {{ include "polaris.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "polaris.objectLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "polaris.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "polaris.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "polaris.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/* An env var read from a Secret, only when the Secret and the key name are both set. */}}
{{- define "polaris.envFromSecret" -}}
{{- $secret := index . 0 -}}
{{- $key := get $secret (index . 1) -}}
{{- if and $secret.name $key }}
- name: {{ index . 2 }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret.name }}
      key: {{ $key }}
{{- end -}}
{{- end -}}

{{/* Container ports collected from the main, management and extra Services: one per number
     (targetPort, else port), refusing a number or name reused with a different name, number or
     protocol, as upstream does. Returns YAML list items. */}}
{{- define "polaris.containerPorts" -}}
{{- $byNumber := dict -}}
{{- $byName := dict -}}
{{- $all := list -}}
{{- range $i, $p := .Values.service.ports }}{{ $all = append $all (list (printf "service.ports[%d]" $i) $p) }}{{ end -}}
{{- range $i, $p := .Values.managementService.ports }}{{ $all = append $all (list (printf "managementService.ports[%d]" $i) $p) }}{{ end -}}
{{- range $i, $svc := .Values.extraServices }}{{ if $svc.nameSuffix }}{{ range $j, $p := $svc.ports }}{{ $all = append $all (list (printf "extraServices[%d].ports[%d]" $i $j) $p) }}{{ end }}{{ end }}{{ end -}}
{{- range $entry := $all -}}
{{- $where := index $entry 0 -}}
{{- $p := index $entry 1 -}}
{{- $number := coalesce $p.targetPort $p.port | toString -}}
{{- $protocol := $p.protocol | default "TCP" -}}
{{- if hasKey $byNumber $number -}}
{{- $seen := get $byNumber $number -}}
{{- if ne $p.name $seen.name }}{{ fail (printf "%s: port number %s has conflicting name, expected %v, got %v" $where $number $seen.name $p.name) }}{{ end -}}
{{- if ne $protocol $seen.protocol }}{{ fail (printf "%s: port number %s has conflicting protocol, expected %v, got %v" $where $number $seen.protocol $protocol) }}{{ end -}}
{{- else if hasKey $byName $p.name -}}
{{- fail (printf "%s: port name %s has conflicting number, expected %v, got %v" $where $p.name (get $byName $p.name) $number) -}}
{{- else -}}
{{- $_ := set $byNumber $number (dict "name" $p.name "protocol" $protocol) -}}
{{- $_ = set $byName $p.name $number -}}
{{- end -}}
{{- end -}}
{{- range $number, $info := $byNumber }}
- name: {{ $info.name }}
  containerPort: {{ $number }}
  protocol: {{ $info.protocol }}
{{- end -}}
{{- end -}}

{{/* One Service's spec body, shared by the main, management and extra Services. */}}
{{- define "polaris.serviceSpec" -}}
{{- $ := index . 0 -}}
{{- $svc := index . 1 -}}
type: {{ $svc.type }}
selector:
  {{- include "polaris.selector" $ | nindent 2 }}
ports:
  {{- range $svc.ports }}
  - name: {{ .name }}
    port: {{ .port }}
    {{- with .targetPort }}
    targetPort: {{ . }}
    {{- end }}
    {{- with .nodePort }}
    nodePort: {{ . }}
    {{- end }}
    protocol: {{ .protocol | default "TCP" }}
  {{- end }}
{{- with $svc.sessionAffinity }}
sessionAffinity: {{ . }}
{{- end }}
{{- with $svc.clusterIP }}
clusterIP: {{ . }}
{{- end }}
{{- if and $svc.externalTrafficPolicy (has $svc.type (list "LoadBalancer" "NodePort")) }}
externalTrafficPolicy: {{ $svc.externalTrafficPolicy }}
{{- end }}
{{- with $svc.internalTrafficPolicy }}
internalTrafficPolicy: {{ . }}
{{- end }}
{{- end -}}
