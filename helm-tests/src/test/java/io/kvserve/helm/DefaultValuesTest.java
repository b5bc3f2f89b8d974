package io.kvserve.helm;

import static io.kvserve.helm.RenderedChart.arg;
import static io.kvserve.helm.RenderedChart.args;
import static io.kvserve.helm.RenderedChart.at;
import static io.kvserve.helm.RenderedChart.container;
import static io.kvserve.helm.RenderedChart.containers;
import static io.kvserve.helm.RenderedChart.env;
import static io.kvserve.helm.RenderedChart.initContainers;
import static io.kvserve.helm.RenderedChart.list;
import static io.kvserve.helm.RenderedChart.map;
import static io.kvserve.helm.RenderedChart.name;
import static io.kvserve.helm.RenderedChart.podLabels;
import static io.kvserve.helm.RenderedChart.podSpec;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The chart rendered with its default values: the whole platform with a bundled Redis and a demo model. */
class DefaultValuesTest {

    static final List<String> SERVICES = List.of("gateway", "scheduler", "kvshare", "inference");

    static RenderedChart chart;

    @BeforeAll
    static void render() {
        chart = RenderedChart.render(Map.of());
    }

    @Test
    void render_defaults_rendersThePlatformWithBundledRedisAndNoOptionalObjects() {
        assertThat(chart.names("Deployment"))
                .containsExactly(name("gateway"), name("kvshare"), name("scheduler"));
        assertThat(chart.names("StatefulSet")).containsExactly(name("inference"), name("redis"));
        assertThat(chart.names("Service")).containsExactly(name("gateway"), name("inference-headless"),
                name("kvshare"), name("redis"), name("scheduler"));
        assertThat(chart.names("ConfigMap"))
                .containsExactly(name("gateway"), name("inference"), name("kvshare"), name("scheduler"));
        assertThat(chart.names("Secret")).containsExactly(name("tokens"));
        assertThat(chart.names("PodDisruptionBudget"))
                .containsExactly(name("gateway"), name("inference"), name("kvshare"), name("scheduler"));
        assertThat(chart.names("ServiceAccount")).containsExactly(RenderedChart.FULLNAME);
        assertThat(chart.all("HorizontalPodAutoscaler")).as("HPA is off by default").isEmpty();
        assertThat(chart.all("ServiceMonitor")).as("ServiceMonitor is off by default").isEmpty();
        assertThat(chart.objects()).allSatisfy(o -> assertThat(at(o, "metadata", "labels"))
                .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP)
                .containsEntry("app.kubernetes.io/instance", RenderedChart.RELEASE));
    }

    @ParameterizedTest
    @CsvSource({"gateway,gateway,8080", "scheduler,scheduler,8200", "kvshare,kvshare,8100", "inference,serve,8000"})
    void container_eachService_runsItsSubcommandOnItsPort(String component, String subcommand, int port) {
        Map<String, Object> container = container(chart.workload(component));

        assertThat(container.get("image")).isEqualTo("kvserve:0.1.0-SNAPSHOT");
        assertThat(args(container).getFirst()).isEqualTo(subcommand);
        assertThat(arg(container, "--port")).contains(String.valueOf(port));
        List<Map<String, Object>> ports = list(container.get("ports"));
        assertThat(ports).singleElement().satisfies(p -> {
            assertThat(p.get("name")).isEqualTo("http");
            assertThat(p.get("containerPort")).isEqualTo(port);
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"gateway", "scheduler", "kvshare", "inference"})
    void probes_eachService_pointAtActuatorHealthGroupsOnTheContainerPort(String component) {
        Map<String, Object> container = container(chart.workload(component));
        Object portName = map(list(container.get("ports")).getFirst()).get("name");

        assertThat(at(container, "livenessProbe", "httpGet", "path")).isEqualTo("/actuator/health/liveness");
        assertThat(at(container, "readinessProbe", "httpGet", "path")).isEqualTo("/actuator/health/readiness");
        assertThat(at(container, "startupProbe", "httpGet", "path")).isEqualTo("/actuator/health/liveness");
        for (String probe : List.of("livenessProbe", "readinessProbe", "startupProbe")) {
            assertThat(at(container, probe, "httpGet", "port")).as(probe).isEqualTo(portName);
        }
    }

    @ParameterizedTest
    @CsvSource({"gateway,gateway,8080", "scheduler,scheduler,8200", "kvshare,kvshare,8100",
            "inference,inference-headless,8000", "redis,redis,6379"})
    void service_eachComponent_selectsItsPodsAndTargetsTheirPort(String component, String service, int port) {
        Map<String, Object> svc = chart.get("Service", name(service));
        Map<String, Object> workload = chart.workload(component);
        Map<String, Object> selector = map(at(svc, "spec", "selector"));

        assertThat(podLabels(workload)).containsAllEntriesOf(selector);
        assertThat(map(at(workload, "spec", "selector", "matchLabels"))).isEqualTo(selector);
        // no other workload's pods match
        for (Map<String, Object> other : chart.objects()) {
            if (List.of("Deployment", "StatefulSet").contains(other.get("kind")) && other != workload) {
                assertThat(podLabels(other).entrySet().containsAll(selector.entrySet()))
                        .as("%s's pods match %s", RenderedChart.nameOf(other), selector).isFalse();
            }
        }
        Map<String, Object> svcPort = map(list(at(svc, "spec", "ports")).getFirst());
        assertThat(svcPort.get("port")).isEqualTo(port);
        Map<String, Object> containerPort = map(list(container(workload).get("ports")).getFirst());
        assertThat(svcPort.get("targetPort")).isEqualTo(containerPort.get("name"));
        assertThat(containerPort.get("containerPort")).isEqualTo(port);
    }

    @Test
    void urls_gatewayAndScheduler_resolveToTheRenderedServices() {
        Map<String, Object> gateway = container(chart.workload("gateway"));
        Map<String, Object> scheduler = container(chart.workload("scheduler"));

        assertThat(arg(gateway, "--scheduler-url")).contains(serviceUrl("scheduler"))
                .contains("http://kv-kvserve-scheduler:8200");
        assertThat(arg(scheduler, "--kvshare-url")).contains(serviceUrl("kvshare"))
                .contains("http://kv-kvserve-kvshare:8100");
    }

    @Test
    void redis_bundled_isTheRedisUrlOfEveryService() {
        Map<String, Object> redisService = chart.get("Service", name("redis"));
        String url = "redis://" + RenderedChart.nameOf(redisService) + ":"
                + map(list(at(redisService, "spec", "ports")).getFirst()).get("port");

        assertThat(url).isEqualTo("redis://kv-kvserve-redis:6379");
        for (String component : SERVICES) {
            assertThat(arg(container(chart.workload(component)), "--redis-url")).as(component).contains(url);
        }
        Map<String, Object> redis = container(chart.workload("redis"));
        assertThat(args(redis)).startsWith("redis-server").containsSequence("--port", "6379");
    }

    @Test
    void secret_tokens_reachExactlyThePodsThatNeedThem() {
        Map<String, Object> secret = chart.get("Secret", name("tokens"));
        Map<String, Object> data = map(secret.get("data"));
        assertThat(data).containsOnlyKeys("gateway-operator-token", "kvshare-operator-token",
                "instance-internal-token");
        assertThat(data.values()).allSatisfy(v -> assertThat(Base64.getDecoder().decode((String) v)).hasSize(32));

        assertSecretEnv("gateway", "GATEWAY_OPERATOR_TOKEN", name("tokens"), "gateway-operator-token");
        assertSecretEnv("gateway", "GATEWAY_ROUTING_INTERNALTOKEN", name("tokens"), "instance-internal-token");
        assertSecretEnv("kvshare", "KVSHARE_OPERATOR_TOKEN", name("tokens"), "kvshare-operator-token");
        assertSecretEnv("inference", "KVSERVE_INSTANCE_INTERNALTOKEN", name("tokens"), "instance-internal-token");
        assertThat(secretRefs(container(chart.workload("scheduler")))).isEmpty();
        // tokens never travel in args, where `kubectl describe` and ps would show them
        for (String component : SERVICES) {
            assertThat(args(container(chart.workload(component))))
                    .noneMatch(a -> a.startsWith("--operator-token") || a.startsWith("--internal-token"));
        }
    }

    @Test
    void inference_statefulSet_hasStableIdsAndAdvertisesItsHeadlessDnsName() {
        Map<String, Object> inference = chart.get("StatefulSet", name("inference"));
        Map<String, Object> headless = chart.get("Service", name("inference-headless"));
        Map<String, Object> container = container(inference);

        assertThat(at(inference, "spec", "replicas")).isEqualTo(2);
        assertThat(at(inference, "spec", "serviceName")).isEqualTo(RenderedChart.nameOf(headless));
        assertThat(at(headless, "spec", "clusterIP")).isEqualTo("None");
        assertThat(at(headless, "spec", "publishNotReadyAddresses")).isEqualTo(true);
        assertThat(arg(container, "--instance-id")).contains("$(POD_NAME)");
        assertThat(arg(container, "--set")).contains("kvserve.instance.advertised-url=http://$(POD_NAME)."
                + "kv-kvserve-inference-headless.$(POD_NAMESPACE).svc.cluster.local:8000");
        assertThat(at(env(container).get("POD_NAME"), "valueFrom", "fieldRef", "fieldPath")).isEqualTo("metadata.name");
        assertThat(at(env(container).get("POD_NAMESPACE"), "valueFrom", "fieldRef", "fieldPath"))
                .isEqualTo("metadata.namespace");
    }

    @Test
    void model_generated_initContainerWritesTheFileInferenceAndSchedulerRead() {
        for (String component : List.of("inference", "scheduler")) {
            Map<String, Object> workload = chart.workload(component);
            assertThat(initContainers(workload)).as(component).singleElement().satisfies(init -> {
                assertThat(args(init)).containsExactly("model", "generate", "--preset", "tiny", "--type", "f16",
                        "--seed", "1", "--output", "/models/demo-tiny.gguf");
                assertThat(mountPaths(init)).containsEntry("models", "/models");
            });
            assertThat(volume(workload, "models")).containsKey("emptyDir");
            Map<String, Object> mount = mount(container(workload), "models");
            assertThat(mount).containsEntry("mountPath", "/models").containsEntry("readOnly", true);
        }
        assertThat(arg(container(chart.workload("inference")), "--model")).contains("/models/demo-tiny.gguf");
        assertThat(arg(container(chart.workload("inference")), "--served-model-name")).contains("demo-tiny");
        assertThat(arg(container(chart.workload("scheduler")), "--model")).contains("demo-tiny=/models/demo-tiny.gguf");
        for (String component : List.of("gateway", "kvshare")) {
            assertThat(initContainers(chart.workload(component))).as(component).isEmpty();
            assertThat(mountPaths(container(chart.workload(component)))).doesNotContainKey("models");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gateway", "scheduler", "kvshare", "inference"})
    void security_eachService_runsNonRootOnAReadOnlyRootWithAWritableTmp(String component) {
        Map<String, Object> workload = chart.workload(component);
        Map<String, Object> pod = podSpec(workload);

        assertThat(at(pod, "securityContext", "runAsNonRoot")).isEqualTo(true);
        assertThat(at(pod, "automountServiceAccountToken")).isEqualTo(false);
        for (Map<String, Object> c : concat(containers(workload), initContainers(workload))) {
            assertThat(at(c, "securityContext", "readOnlyRootFilesystem")).isEqualTo(true);
            assertThat(at(c, "securityContext", "allowPrivilegeEscalation")).isEqualTo(false);
            assertThat(mountPaths(c)).containsEntry("tmp", "/tmp");
        }
        assertThat(volume(workload, "tmp")).containsKey("emptyDir");
        Map<String, Object> container = container(workload);
        assertThat(map(at(container, "resources", "requests"))).containsKeys("cpu", "memory");
        assertThat(map(at(container, "resources", "limits"))).containsKey("memory");
    }

    @ParameterizedTest
    @ValueSource(strings = {"gateway", "scheduler", "kvshare", "inference"})
    void config_eachService_mountsItsConfigMapWhereSpringLooks(String component) {
        Map<String, Object> workload = chart.workload(component);
        Map<String, Object> container = container(workload);

        assertThat(at(volume(workload, "config"), "configMap", "name")).isEqualTo(name(component));
        assertThat(map(chart.get("ConfigMap", name(component)).get("data"))).containsKey("application.properties");
        assertThat(mountPaths(container)).containsEntry("config", "/config");
        assertThat(env(container).get("SPRING_CONFIG_ADDITIONALLOCATION")).containsEntry("value", "optional:file:/config/");
    }

    @ParameterizedTest
    @ValueSource(strings = {"gateway", "scheduler", "kvshare", "inference"})
    void pdb_eachService_selectsExactlyItsPods(String component) {
        Map<String, Object> pdb = chart.get("PodDisruptionBudget", name(component));
        Map<String, Object> selector = map(at(pdb, "spec", "selector", "matchLabels"));

        assertThat(podLabels(chart.workload(component))).containsAllEntriesOf(selector);
        assertThat(selector).containsEntry("app.kubernetes.io/component", component);
        assertThat(map(pdb.get("spec"))).containsEntry("maxUnavailable", 1).doesNotContainKey("minAvailable");
    }

    @Test
    void workloads_defaults_haveReplicasAndPrometheusAnnotations() {
        assertThat(at(chart.workload("gateway"), "spec", "replicas")).isEqualTo(2);
        assertThat(at(chart.workload("redis"), "spec", "replicas")).isEqualTo(1);
        for (String component : SERVICES) {
            Map<String, Object> annotations = map(at(chart.workload(component), "spec", "template", "metadata",
                    "annotations"));
            assertThat(annotations).containsEntry("prometheus.io/scrape", "true")
                    .containsEntry("prometheus.io/path", "/actuator/prometheus")
                    .containsKey("checksum/config");
        }
    }

    static String serviceUrl(String component) {
        Map<String, Object> svc = chart.get("Service", name(component));
        return "http://" + RenderedChart.nameOf(svc) + ":" + map(list(at(svc, "spec", "ports")).getFirst()).get("port");
    }

    static void assertSecretEnv(String component, String envName, String secret, String key) {
        Map<String, Object> entry = env(container(chart.workload(component))).get(envName);
        assertThat(entry).as("%s env %s", component, envName).isNotNull();
        assertThat(at(entry, "valueFrom", "secretKeyRef", "name")).isEqualTo(secret);
        assertThat(at(entry, "valueFrom", "secretKeyRef", "key")).isEqualTo(key);
    }

    static Set<String> secretRefs(Map<String, Object> container) {
        return env(container).values().stream()
                .filter(e -> e.get("valueFrom") instanceof Map<?, ?> v && v.containsKey("secretKeyRef"))
                .map(e -> (String) e.get("name")).collect(Collectors.toSet());
    }

    static Map<String, Object> volume(Map<String, Object> workload, String name) {
        List<Map<String, Object>> volumes = list(podSpec(workload).get("volumes"));
        return volumes.stream().filter(v -> name.equals(v.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name));
    }

    static Map<String, Object> mount(Map<String, Object> container, String name) {
        List<Map<String, Object>> mounts = list(container.get("volumeMounts"));
        return mounts.stream().filter(m -> name.equals(m.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("no mount " + name));
    }

    static Map<String, String> mountPaths(Map<String, Object> container) {
        if (container.get("volumeMounts") == null) {
            return Map.of();
        }
        List<Map<String, Object>> mounts = list(container.get("volumeMounts"));
        return mounts.stream().collect(Collectors.toMap(m -> (String) m.get("name"), m -> (String) m.get("mountPath")));
    }

    static <T> List<T> concat(List<T> a, List<T> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
    }
}
