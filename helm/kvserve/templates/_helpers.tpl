{{/*
Names. Every object is `<fullname>-<component>`; fullname is `<release>-<chart>` (just `<release>`
when the release name already contains the chart name), cut to leave room for the component suffix.
*/}}
{{- define "kvserve.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "kvserve.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "kvserve.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* `<fullname>-<component>`; call with (dict "ctx" $ "component" "gateway"). */}}
{{- define "kvserve.componentName" -}}
{{- printf "%s-%s" (include "kvserve.fullname" .ctx) .component }}
{{- end }}

{{/* The inference instances' headless Service (their stable DNS names). */}}
{{- define "kvserve.inferenceHeadlessName" -}}
{{- printf "%s-inference-headless" (include "kvserve.fullname" .) }}
{{- end }}

{{/* Labels that select a component's pods; call with (dict "ctx" $ "component" "gateway"). */}}
{{- define "kvserve.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kvserve.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* All labels of a component's objects; call with (dict "ctx" $ "component" "gateway"). */}}
{{- define "kvserve.labels" -}}
helm.sh/chart: {{ include "kvserve.chart" .ctx }}
{{ include "kvserve.selectorLabels" . }}
app.kubernetes.io/part-of: kvserve
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "kvserve.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "kvserve.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kvserve.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret with the tokens: the existing one, or the one this chart renders. */}}
{{- define "kvserve.secretName" -}}
{{- default (printf "%s-tokens" (include "kvserve.fullname" .)) .Values.secrets.existingSecret }}
{{- end }}

{{/* An env var from the tokens Secret; call with (dict "ctx" $ "name" "ENV_NAME" "key" "<values key>"). */}}
{{- define "kvserve.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "kvserve.secretName" .ctx }}
      key: {{ index .ctx.Values.secrets.keys .key }}
{{- end }}

{{/*
The Redis URL every service gets as `--redis-url`: the bundled Redis' Service, the external `redis.url`,
or `$(KVSERVE_REDIS_URL)` (expanded by the kubelet from the env var "kvserve.redisEnv" adds) when the
external URL is in a Secret.
*/}}
{{- define "kvserve.redisUrl" -}}
{{- if .Values.redis.enabled }}
{{- printf "redis://%s:%d" (include "kvserve.componentName" (dict "ctx" . "component" "redis")) (int .Values.redis.port) }}
{{- else if .Values.redis.existingSecret }}
{{- print "$(KVSERVE_REDIS_URL)" }}
{{- else if .Values.redis.url }}
{{- .Values.redis.url }}
{{- else }}
{{- fail "redis: set redis.enabled=true (bundled), or redis.url / redis.existingSecret (external)" }}
{{- end }}
{{- end }}

{{- define "kvserve.redisEnv" -}}
{{- if and (not .Values.redis.enabled) .Values.redis.existingSecret }}
- name: KVSERVE_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.existingSecret }}
      key: {{ .Values.redis.existingSecretKey }}
{{- end }}
{{- end }}

{{/* Base URL of a component's Service; call with (dict "ctx" $ "component" "scheduler"). */}}
{{- define "kvserve.serviceUrl" -}}
{{- $port := (index .ctx.Values .component).port }}
{{- printf "http://%s:%d" (include "kvserve.componentName" .) (int $port) }}
{{- end }}

{{/* Environment shared by the kvserve containers: the JVM options and the Spring config location. */}}
{{- define "kvserve.commonEnv" -}}
- name: JDK_JAVA_OPTIONS
  value: {{ .values.jvmOptions | quote }}
- name: SPRING_CONFIG_ADDITIONALLOCATION
  value: "optional:file:/config/"
{{- end }}

{{/* Liveness, readiness and (optionally) startup probes on Actuator; call with (dict "port" 8080 "startupFailureThreshold" 60). */}}
{{- define "kvserve.probes" -}}
livenessProbe:
  httpGet:
    path: /actuator/health/liveness
    port: http
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: 3
readinessProbe:
  httpGet:
    path: /actuator/health/readiness
    port: http
  periodSeconds: 5
  timeoutSeconds: 3
  failureThreshold: 3
startupProbe:
  httpGet:
    path: /actuator/health/liveness
    port: http
  periodSeconds: 10
  timeoutSeconds: 5
  failureThreshold: {{ default 30 .startupFailureThreshold }}
{{- end }}

{{/* Pod annotations: config checksum (changed `config` rolls the pods), Prometheus scraping, extras; call with (dict "ctx" $ "values" .Values.gateway). */}}
{{- define "kvserve.podAnnotations" -}}
checksum/config: {{ toYaml .values.config | sha256sum }}
{{- if .ctx.Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .values.port | quote }}
prometheus.io/path: /actuator/prometheus
{{- end }}
{{- with .values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Volumes every kvserve pod has: the writable /tmp and the component's ConfigMap. */}}
{{- define "kvserve.commonVolumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .ctx.Values.tmpSizeLimit }}
- name: config
  configMap:
    name: {{ include "kvserve.componentName" . }}
{{- end }}

{{- define "kvserve.commonVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: config
  mountPath: /config
  readOnly: true
{{- end }}

{{/* The model volume at /models: an existing claim, or an emptyDir the "kvserve.modelInitContainer" fills. */}}
{{- define "kvserve.modelVolume" -}}
- name: models
{{- if eq .Values.model.source "existingClaim" }}
  persistentVolumeClaim:
    claimName: {{ required "model.existingClaim is required when model.source=existingClaim" .Values.model.existingClaim }}
    readOnly: true
{{- else if eq .Values.model.source "generate" }}
  emptyDir:
    sizeLimit: {{ .Values.model.generate.sizeLimit }}
{{- else }}
{{- fail (printf "model.source must be generate or existingClaim, got %q" .Values.model.source) }}
{{- end }}
{{- end }}

{{- define "kvserve.modelVolumeMount" -}}
- name: models
  mountPath: /models
  readOnly: true
  {{- if and (eq .Values.model.source "existingClaim") .Values.model.subPath }}
  subPath: {{ .Values.model.subPath }}
  {{- end }}
{{- end }}

{{- define "kvserve.modelPath" -}}
{{- printf "/models/%s" .Values.model.file }}
{{- end }}

{{- define "kvserve.modelInitContainer" -}}
{{- if eq .Values.model.source "generate" }}
- name: generate-model
  image: {{ include "kvserve.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args:
    - model
    - generate
    - --preset
    - {{ .Values.model.generate.preset | quote }}
    - --type
    - {{ .Values.model.generate.type | quote }}
    - --seed
    - {{ .Values.model.generate.seed | quote }}
    - --output
    - {{ include "kvserve.modelPath" . }}
  securityContext:
    {{- toYaml .Values.containerSecurityContext | nindent 4 }}
  resources:
    {{- toYaml .Values.model.generate.resources | nindent 4 }}
  volumeMounts:
    - name: models
      mountPath: /models
    - name: tmp
      mountPath: /tmp
{{- end }}
{{- end }}

{{/* Pod-level settings every kvserve pod shares; call with (dict "ctx" $ "values" .Values.gateway). */}}
{{- define "kvserve.podCommon" -}}
serviceAccountName: {{ include "kvserve.serviceAccountName" .ctx }}
automountServiceAccountToken: false
{{- with .ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .ctx.Values.podSecurityContext | nindent 2 }}
terminationGracePeriodSeconds: {{ .values.terminationGracePeriodSeconds }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* A PodDisruptionBudget spec's budget: minAvailable when set, else maxUnavailable. */}}
{{- define "kvserve.pdbBudget" -}}
{{- if .minAvailable }}
minAvailable: {{ .minAvailable }}
{{- else }}
maxUnavailable: {{ .maxUnavailable }}
{{- end }}
{{- end }}
