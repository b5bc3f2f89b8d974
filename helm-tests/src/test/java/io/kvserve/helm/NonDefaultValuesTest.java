package io.kvserve.helm;

import static io.kvserve.helm.DefaultValuesTest.SERVICES;
import static io.kvserve.helm.DefaultValuesTest.mount;
import static io.kvserve.helm.DefaultValuesTest.volume;
import static io.kvserve.helm.RenderedChart.arg;
import static io.kvserve.helm.RenderedChart.args;
import static io.kvserve.helm.RenderedChart.at;
import static io.kvserve.helm.RenderedChart.container;
import static io.kvserve.helm.RenderedChart.env;
import static io.kvserve.helm.RenderedChart.initContainers;
import static io.kvserve.helm.RenderedChart.list;
import static io.kvserve.helm.RenderedChart.map;
import static io.kvserve.helm.RenderedChart.name;
import static io.kvserve.helm.RenderedChart.podLabels;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The chart rendered with non-default values: what each switch adds, removes or rewires. */
class NonDefaultValuesTest {

    /** values-external.yaml: external Redis, existing Secret, ServiceMonitor, 3 instances on a claim, custom resources. */
    @Nested
    class ExternalValues {

        final RenderedChart chart = RenderedChart.render("values-external.yaml", Map.of());

        @Test
        void redis_external_everyServiceGetsTheUrlAndNoRedisIsBundled() {
            assertThat(chart.find("StatefulSet", name("redis"))).isEmpty();
            assertThat(chart.find("Service", name("redis"))).isEmpty();
            for (String component : SERVICES) {
                assertThat(arg(container(chart.workload(component)), "--redis-url")).as(component)
                        .contains("redis://redis.shared.svc.cluster.local:6379/2");
            }
        }

        @Test
        void secret_existing_isNotRenderedAndIsReferencedUnderItsKeys() {
            assertThat(chart.all("Secret")).isEmpty();
            assertSecretRef("gateway", "GATEWAY_OPERATOR_TOKEN", "platform-tokens", "gw-admin");
            assertSecretRef("gateway", "GATEWAY_ROUTING_INTERNALTOKEN", "platform-tokens", "instance-internal-token");
            assertSecretRef("kvshare", "KVSHARE_OPERATOR_TOKEN", "platform-tokens", "kvshare-operator-token");
            assertSecretRef("inference", "KVSERVE_INSTANCE_INTERNALTOKEN", "platform-tokens", "instance-internal-token");
        }

        @Test
        void serviceMonitor_enabled_scrapesActuatorOnTheServicesOfThisRelease() {
            Map<String, Object> monitor = chart.get("ServiceMonitor", RenderedChart.FULLNAME);
            Map<String, Object> selector = map(at(monitor, "spec", "selector", "matchLabels"));
            Map<String, Object> endpoint = map(list(at(monitor, "spec", "endpoints")).getFirst());

            assertThat(monitor.get("apiVersion")).isEqualTo("monitoring.coreos.com/v1");
            assertThat(map(at(monitor, "metadata", "labels"))).containsEntry("release", "prometheus");
            assertThat(endpoint).containsEntry("path", "/actuator/prometheus").containsEntry("port", "http")
                    .containsEntry("interval", "30s");
            assertThat(list(at(monitor, "spec", "namespaceSelector", "matchNames"))).containsExactly(RenderedChart.NAMESPACE);
            List<String> scraped = chart.all("Service").stream()
                    .filter(s -> map(at(s, "metadata", "labels")).entrySet().containsAll(selector.entrySet()))
                    .map(RenderedChart::nameOf).sorted().toList();
            assertThat(scraped).containsExactly(name("gateway"), name("inference-headless"), name("kvshare"),
                    name("scheduler"));
            for (String service : scraped) {
                List<Map<String, Object>> ports = list(at(chart.get("Service", service), "spec", "ports"));
                assertThat(ports).extracting(p -> p.get("name")).contains("http");
            }
            for (String component : SERVICES) {
                Map<String, Object> annotations = map(at(chart.workload(component), "spec", "template", "metadata",
                        "annotations"));
                assertThat(annotations).as("metrics.podAnnotations=false").doesNotContainKey("prometheus.io/scrape");
            }
        }

        @Test
        void inference_threeReplicas_onTheModelClaimAdvertisingTheirPodIp() {
            Map<String, Object> inference = chart.get("StatefulSet", name("inference"));
            Map<String, Object> container = container(inference);

            assertThat(at(inference, "spec", "replicas")).isEqualTo(3);
            assertThat(arg(container, "--model")).contains("/models/llama-3.2-1b-instruct-q8.gguf");
            assertThat(arg(container, "--served-model-name")).contains("llama-3.2-1b");
            assertThat(args(container)).contains("kvserve.instance.advertised-url=http://$(POD_IP):8000",
                    "--max-num-seqs=32", "--kv-cache-memory=4GB")
                    .containsSequence("--set", "kvserve.instance.drain-timeout=10s");
            assertThat(at(env(container).get("POD_IP"), "valueFrom", "fieldRef", "fieldPath")).isEqualTo("status.podIP");
            for (String component : List.of("inference", "scheduler")) {
                Map<String, Object> workload = chart.workload(component);
                assertThat(initContainers(workload)).as("no generated model with a claim").isEmpty();
                assertThat(at(volume(workload, "models"), "persistentVolumeClaim"))
                        .isEqualTo(Map.of("claimName", "models-rox", "readOnly", true));
                assertThat(mount(container(workload), "models")).containsEntry("readOnly", true)
                        .containsEntry("subPath", "llama");
            }
            assertThat(arg(container(chart.workload("scheduler")), "--model"))
                    .contains("llama-3.2-1b=/models/llama-3.2-1b-instruct-q8.gguf");
            assertThat(arg(container(chart.workload("scheduler")), "--policy")).contains("least-load");
        }

        @Test
        void resources_custom_reachTheContainers() {
            assertThat(at(container(chart.workload("inference")), "resources"))
                    .isEqualTo(Map.of("requests", Map.of("cpu", "8", "memory", "16Gi"),
                            "limits", Map.of("cpu", "8", "memory", "16Gi")));
            assertThat(at(container(chart.workload("gateway")), "resources", "limits"))
                    .isEqualTo(Map.of("cpu", "2", "memory", "2Gi"));
        }

        @Test
        void gateway_customPort_movesContainerProbesServiceAndReplicas() {
            Map<String, Object> gateway = chart.workload("gateway");
            Map<String, Object> service = chart.get("Service", name("gateway"));

            assertThat(at(gateway, "spec", "replicas")).isEqualTo(3);
            assertThat(arg(container(gateway), "--port")).contains("9080");
            assertThat(map(list(container(gateway).get("ports")).getFirst())).containsEntry("containerPort", 9080);
            assertThat(map(list(at(service, "spec", "ports")).getFirst())).containsEntry("port", 9080)
                    .containsEntry("targetPort", "http");
        }

        @Test
        void config_gatewayProperties_landInItsConfigMap() {
            Map<String, Object> data = map(chart.get("ConfigMap", name("gateway")).get("data"));

            assertThat((String) data.get("application.properties"))
                    .contains("gateway.routing.first-token-timeout=30s");
        }

        private void assertSecretRef(String component, String envName, String secret, String key) {
            Map<String, Object> entry = env(container(chart.workload(component))).get(envName);
            assertThat(entry).as("%s env %s", component, envName).isNotNull();
            assertThat(at(entry, "valueFrom", "secretKeyRef")).isEqualTo(Map.of("name", secret, "key", key));
        }

        @Test
        void pdb_perServiceSettings_areApplied() {
            assertThat(chart.names("PodDisruptionBudget"))
                    .containsExactly(name("gateway"), name("inference"), name("scheduler"));
            Map<String, Object> inference = chart.get("PodDisruptionBudget", name("inference"));
            assertThat(map(inference.get("spec"))).containsEntry("minAvailable", 2).doesNotContainKey("maxUnavailable");
        }
    }

    @Test
    void hpa_enabled_targetsTheGatewayDeploymentAndTheInferenceStatefulSet() {
        RenderedChart chart = RenderedChart.render(Map.of("gateway.autoscaling.enabled", "true",
                "inference.autoscaling.enabled", "true", "inference.autoscaling.maxReplicas", "12"));

        assertThat(chart.names("HorizontalPodAutoscaler")).containsExactly(name("gateway"), name("inference"));
        Map<String, Object> gateway = chart.get("HorizontalPodAutoscaler", name("gateway"));
        Map<String, Object> inference = chart.get("HorizontalPodAutoscaler", name("inference"));
        assertThat(gateway.get("apiVersion")).isEqualTo("autoscaling/v2");
        assertThat(at(gateway, "spec", "scaleTargetRef"))
                .isEqualTo(Map.of("apiVersion", "apps/v1", "kind", "Deployment", "name", name("gateway")));
        assertThat(at(inference, "spec", "scaleTargetRef"))
                .isEqualTo(Map.of("apiVersion", "apps/v1", "kind", "StatefulSet", "name", name("inference")));
        assertThat(at(inference, "spec", "maxReplicas")).isEqualTo(12);
        assertThat(at(gateway, "spec", "minReplicas")).isEqualTo(2);
        Map<String, Object> metric = map(list(at(gateway, "spec", "metrics")).getFirst());
        assertThat(at(metric, "resource", "name")).isEqualTo("cpu");
        assertThat(at(metric, "resource", "target", "averageUtilization")).isEqualTo(70);
        // the HPA owns the replica count: the workloads leave it out, so an upgrade does not reset it
        assertThat(map(chart.workload("gateway").get("spec"))).doesNotContainKey("replicas");
        assertThat(map(chart.workload("inference").get("spec"))).doesNotContainKey("replicas");
        assertThat(map(chart.workload("kvshare").get("spec"))).containsKey("replicas");
        // each target exists as rendered
        for (Map<String, Object> hpa : chart.all("HorizontalPodAutoscaler")) {
            Map<String, Object> ref = map(at(hpa, "spec", "scaleTargetRef"));
            assertThat(chart.find((String) ref.get("kind"), (String) ref.get("name"))).isPresent();
        }
    }

    @Test
    void redis_externalUrlInASecret_reachesTheArgsThroughAnEnvVar() {
        RenderedChart chart = RenderedChart.render(Map.of("redis.enabled", "false",
                "redis.existingSecret", "redis-credentials", "redis.existingSecretKey", "url"));

        for (String component : SERVICES) {
            Map<String, Object> container = container(chart.workload(component));
            assertThat(arg(container, "--redis-url")).as(component).contains("$(KVSERVE_REDIS_URL)");
            Map<String, Object> envVar = env(container).get("KVSERVE_REDIS_URL");
            assertThat(at(envVar, "valueFrom", "secretKeyRef")).isEqualTo(Map.of("name", "redis-credentials", "key", "url"));
        }
    }

    @Test
    void redis_disabledWithoutUrl_failsWithAMessage() {
        assertThatThrownBy(() -> RenderedChart.render(Map.of("redis.enabled", "false")))
                .hasMessageContaining("redis.url");
    }

    @Test
    void redis_bundledWithPersistence_keepsItsDataInAClaim() {
        RenderedChart chart = RenderedChart.render(Map.of("redis.persistence.enabled", "true",
                "redis.persistence.size", "20Gi"));
        Map<String, Object> redis = chart.get("StatefulSet", name("redis"));

        Map<String, Object> claim = map(list(at(redis, "spec", "volumeClaimTemplates")).getFirst());
        assertThat(at(claim, "metadata", "name")).isEqualTo("data");
        assertThat(at(claim, "spec", "resources", "requests", "storage")).isEqualTo("20Gi");
        assertThat(args(container(redis))).containsSequence("--appendonly", "yes");
        assertThat(map(at(redis, "spec", "template", "spec"))).doesNotContainKey("volumes");
    }

    @Test
    void imagePullSecrets_set_reachEveryPodIncludingRedis() {
        RenderedChart chart = RenderedChart.render(Map.of("imagePullSecrets[0].name", "regcred"));

        for (String component : List.of("gateway", "scheduler", "kvshare", "inference", "redis")) {
            assertThat(RenderedChart.podSpec(chart.workload(component)).get("imagePullSecrets")).as(component)
                    .isEqualTo(List.of(Map.of("name", "regcred")));
        }
    }

    @Test
    void model_claimMissing_failsWithAMessage() {
        assertThatThrownBy(() -> RenderedChart.render(Map.of("model.source", "existingClaim")))
                .hasMessageContaining("model.existingClaim");
    }

    @ParameterizedTest
    @CsvSource({"scheduler.policy,fastest", "inference.advertise,hostname", "model.source,s3",
            "redis.url,localhost:6379", "gateway.port,0", "inference.engine.kvType,bf16"})
    void schema_invalidValue_failsTheRenderNamingTheValue(String key, String value) {
        assertThatThrownBy(() -> RenderedChart.render(Map.of(key, value)))
                .hasMessageContaining("values don't meet the specifications of the schema")
                .hasMessageContaining(key.substring(key.lastIndexOf('.') + 1));
    }

    @Test
    void names_fullnameOverride_prefixesEveryObjectAndKeepsTheWiring() {
        RenderedChart chart = RenderedChart.render(Map.of("fullnameOverride", "llm"));

        assertThat(chart.names("Deployment")).containsExactly("llm-gateway", "llm-kvshare", "llm-scheduler");
        assertThat(arg(container(chart.get("Deployment", "llm-gateway")), "--scheduler-url"))
                .contains("http://llm-scheduler:8200");
        assertThat(arg(container(chart.get("StatefulSet", "llm-inference")), "--redis-url"))
                .contains("redis://llm-redis:6379");
        assertThat(podLabels(chart.get("StatefulSet", "llm-inference")))
                .containsAllEntriesOf(map(at(chart.get("Service", "llm-inference-headless"), "spec", "selector")));
    }

}
