package io.kvserve.deploy;

import static io.kvserve.deploy.Deployment.list;
import static io.kvserve.deploy.Deployment.map;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * deploy/grafana: the provisioned data source and dashboards are what compose mounts, every dashboard
 * is Grafana JSON whose panels query the provisioned data source, and every metric a query names is
 * one the services export (read from the code, see {@link ExportedMetrics}).
 */
class GrafanaDashboardsTest {

    private static final Path GRAFANA = Deployment.root().resolve("deploy/grafana");
    /** PromQL words that are not metric names. */
    private static final Set<String> PROMQL_WORDS = Set.of("by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan");
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_:][A-Za-z0-9_:]*");

    private static String datasourceUid;
    private static List<Path> dashboards;

    @BeforeAll
    static void load() throws IOException {
        Map<String, Object> datasources = Deployment.loadYaml(GRAFANA.resolve("provisioning/datasources/prometheus.yml"));
        List<Object> sources = list(datasources.get("datasources"));
        assertThat(sources).hasSize(1);
        Map<String, Object> prometheus = map(sources.getFirst());
        assertThat(prometheus.get("type")).isEqualTo("prometheus");
        datasourceUid = String.valueOf(prometheus.get("uid"));
        try (Stream<Path> files = Files.list(GRAFANA.resolve("dashboards"))) {
            dashboards = files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
        }
    }

    @Test
    void datasource_isThePrometheusComposeRuns() {
        Map<String, Object> prometheus = map(list(Deployment.loadYaml(
                GRAFANA.resolve("provisioning/datasources/prometheus.yml")).get("datasources")).getFirst());
        assertThat(prometheus.get("url")).isEqualTo("http://prometheus:9090");
        Map<String, Object> services = map(Deployment.loadYaml(Deployment.composeFile()).get("services"));
        assertThat(services).containsKey("prometheus");
        assertThat(list(map(services.get("prometheus")).get("ports"))).contains("9090:9090");
    }

    @Test
    void dashboardProvider_readsTheFolderComposeMounts() {
        Map<String, Object> provider = map(list(Deployment.loadYaml(
                GRAFANA.resolve("provisioning/dashboards/kvserve.yml")).get("providers")).getFirst());
        String path = String.valueOf(map(provider.get("options")).get("path"));
        Map<String, Object> grafana = map(map(Deployment.loadYaml(Deployment.composeFile()).get("services")).get("grafana"));
        assertThat(list(grafana.get("volumes"))).contains("./deploy/grafana/dashboards:" + path + ":ro",
                "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro");
        String home = String.valueOf(map(grafana.get("environment")).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"));
        assertThat(home).startsWith(path + "/");
        assertThat(GRAFANA.resolve("dashboards").resolve(home.substring(path.length() + 1))).exists();
    }

    @Test
    void dashboards_areGrafanaJsonQueryingTheProvisionedDatasource() throws IOException {
        assertThat(dashboards).isNotEmpty();
        Set<String> uids = new HashSet<>();
        for (Path file : dashboards) {
            JsonNode dashboard = JsonMapper.builder().build().readTree(Files.readString(file));
            String name = file.getFileName().toString();
            assertThat(uids.add(dashboard.path("uid").asString())).as("%s uid is unique", name).isTrue();
            assertThat(dashboard.path("title").asString()).as(name).isNotBlank();
            assertThat(dashboard.path("schemaVersion").asInt()).as("%s schemaVersion", name).isGreaterThanOrEqualTo(36);
            assertThat(dashboard.path("panels").isArray() && !dashboard.path("panels").isEmpty()).as(name).isTrue();
            Set<Integer> ids = new HashSet<>();
            for (JsonNode panel : dashboard.path("panels")) {
                String title = name + " / " + panel.path("title").asString();
                assertThat(ids.add(panel.path("id").asInt())).as("%s id is unique", title).isTrue();
                assertThat(panel.path("gridPos").path("w").asInt()).as(title).isBetween(1, 24);
                if (panel.path("type").asString().equals("row")) {
                    continue;
                }
                assertThat(panel.path("datasource").path("uid").asString()).as(title).isEqualTo(datasourceUid);
                assertThat(panel.path("targets").isEmpty()).as("%s has queries", title).isFalse();
                for (JsonNode target : panel.path("targets")) {
                    assertThat(target.path("datasource").path("uid").asString()).as(title).isEqualTo(datasourceUid);
                    assertThat(target.path("expr").asString()).as(title).isNotBlank();
                    assertThat(target.path("refId").asString()).as(title).isNotBlank();
                }
            }
        }
    }

    @Test
    void dashboardQueries_nameMetricsTheServicesExport() throws IOException {
        Set<String> exported = ExportedMetrics.scan(Deployment.root());
        assertThat(exported).as("the code scan finds the services' meters")
                .contains("vllm:time_to_first_token_seconds_bucket", "kvserve_gateway_requests_total",
                        "kvserve_scheduler_placements_total", "kvshare_queries_total");
        Set<String> queried = new TreeSet<>();
        for (Path file : dashboards) {
            for (String expr : expressions(file)) {
                for (String metric : metricNames(expr)) {
                    queried.add(metric);
                    assertThat(exported).as("%s: %s", file.getFileName(), expr).contains(metric);
                }
            }
        }
        assertThat(queried).as("the dashboards cover what operators ask for").contains(
                "vllm:time_to_first_token_seconds_bucket", "vllm:inter_token_latency_seconds_bucket",
                "vllm:e2e_request_latency_seconds_bucket", "vllm:num_requests_running", "vllm:num_requests_waiting",
                "vllm:kv_cache_usage_perc", "vllm:prefix_cache_hits_total", "vllm:prefix_cache_queries_total",
                "vllm:generation_tokens_total", "kvserve:tenant_cached_prompt_tokens_total",
                "kvserve:tenant_prompt_tokens_total", "kvserve_gateway_requests_total",
                "kvserve_gateway_prefix_hit_tokens_total", "kvserve_scheduler_placements_total",
                "kvserve_gateway_rate_limited_total", "resilience4j_circuitbreaker_state",
                "kvserve_gateway_overhead_seconds_bucket");
    }

    @Test
    void metricNames_ignoreFunctionsLabelsAndRanges() {
        assertThat(metricNames("histogram_quantile(0.9, sum by (le, tenant) (rate(vllm:x_seconds_bucket{kind!=\"a b\"}[$__rate_interval])))"
                + " / on (instance) group_left max(up offset 5m) > bool 0"))
                .containsExactlyInAnyOrder("vllm:x_seconds_bucket", "up");
    }

    private static List<String> expressions(Path dashboard) throws IOException {
        List<String> exprs = new ArrayList<>();
        JsonMapper.builder().build().readTree(Files.readString(dashboard)).path("panels")
                .forEach(p -> p.path("targets").forEach(t -> exprs.add(t.path("expr").asString())));
        return exprs;
    }

    /** The metric names in a PromQL expression: identifiers that are not functions, labels, keywords or durations. */
    static Set<String> metricNames(String expr) {
        String bare = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")   // strings
                .replaceAll("\\{[^}]*}", "")                                 // label matchers
                .replaceAll("\\[[^]]*]", "")                                 // ranges
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ") // label lists
                .replaceAll("\\boffset\\s+\\w+", " ");
        Set<String> names = new TreeSet<>();
        Matcher m = IDENTIFIER.matcher(bare);
        while (m.find()) {
            String word = m.group();
            boolean isFunction = bare.substring(m.end()).stripLeading().startsWith("(");
            boolean isNumberPart = m.start() > 0 && Character.isDigit(bare.charAt(m.start() - 1));
            if (!isFunction && !isNumberPart && !PROMQL_WORDS.contains(word.toLowerCase())) {
                names.add(word);
            }
        }
        return names;
    }
}
