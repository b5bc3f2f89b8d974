package io.kvserve.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.Yaml;

/**
 * The chart in {@code helm/kvserve} rendered by {@code helm template} (helm-java, no cluster) as release
 * {@value #RELEASE} in namespace {@value #NAMESPACE}, parsed into plain maps, with look-ups by kind and
 * name and by the paths tests keep asking for (pod spec, containers, env).
 */
record RenderedChart(String manifest, List<Map<String, Object>> objects) {

    static final String RELEASE = "kv";
    static final String NAMESPACE = "llm";
    /** {@code <release>-<chart>}: the prefix of every object's name. */
    static final String FULLNAME = "kv-kvserve";
    /** The cluster version to render for (helm-java's default, v1.20, is below the chart's kubeVersion). */
    static final String KUBE_VERSION = "v1.32.0";

    static Path chart() {
        Path chart = Path.of(System.getProperty("kvserve.chart", "../helm/kvserve")).toAbsolutePath().normalize();
        assertThat(chart.resolve("Chart.yaml")).as("chart at %s (system property kvserve.chart)", chart).exists();
        return chart;
    }

    /** Renders with the chart's default values plus {@code sets} ({@code --set key=value}). */
    static RenderedChart render(Map<String, String> sets) {
        return render(null, sets);
    }

    /** Renders with a values file from the test resources (null: none) plus {@code sets}. */
    static RenderedChart render(String valuesResource, Map<String, String> sets) {
        TemplateCommand template = new Helm(chart()).template().withName(RELEASE).withNamespace(NAMESPACE)
                .withKubeVersion(KUBE_VERSION);
        if (valuesResource != null) {
            template = template.withValuesFile(resource(valuesResource));
        }
        for (Map.Entry<String, String> set : sets.entrySet()) {
            template = template.set(set.getKey(), set.getValue());
        }
        return parse(template.call());
    }

    static RenderedChart parse(String manifest) {
        List<Map<String, Object>> objects = new ArrayList<>();
        for (Object document : new Yaml().loadAll(manifest)) {
            if (document != null) {
                objects.add(map(document));
            }
        }
        return new RenderedChart(manifest, List.copyOf(objects));
    }

    static Path resource(String name) {
        try {
            Path path = Path.of(Objects.requireNonNull(RenderedChart.class.getResource("/" + name), name).toURI());
            assertThat(Files.isRegularFile(path)).isTrue();
            return path;
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code <release>-<chart>-<component>}. */
    static String name(String component) {
        return FULLNAME + "-" + component;
    }

    List<Map<String, Object>> all(String kind) {
        return objects.stream().filter(o -> kind.equals(o.get("kind"))).toList();
    }

    List<String> names(String kind) {
        return all(kind).stream().map(RenderedChart::nameOf).sorted().toList();
    }

    Optional<Map<String, Object>> find(String kind, String name) {
        return all(kind).stream().filter(o -> name.equals(nameOf(o))).findFirst();
    }

    Map<String, Object> get(String kind, String name) {
        return find(kind, name).orElseThrow(() -> new AssertionError(
                "no " + kind + " named " + name + "; rendered " + kind + "s: " + names(kind)));
    }

    /** The workload (Deployment or StatefulSet) of a component. */
    Map<String, Object> workload(String component) {
        return find("Deployment", name(component)).or(() -> find("StatefulSet", name(component)))
                .orElseThrow(() -> new AssertionError("no workload for " + component));
    }

    static String nameOf(Map<String, Object> object) {
        return (String) map(object.get("metadata")).get("name");
    }

    static Map<String, Object> podSpec(Map<String, Object> workload) {
        return map(at(workload, "spec", "template", "spec"));
    }

    static Map<String, Object> podLabels(Map<String, Object> workload) {
        return map(at(workload, "spec", "template", "metadata", "labels"));
    }

    static List<Map<String, Object>> containers(Map<String, Object> workload) {
        return list(podSpec(workload).get("containers"));
    }

    static List<Map<String, Object>> initContainers(Map<String, Object> workload) {
        Object init = podSpec(workload).get("initContainers");
        return init == null ? List.of() : list(init);
    }

    static Map<String, Object> container(Map<String, Object> workload) {
        List<Map<String, Object>> containers = containers(workload);
        assertThat(containers).as("containers of %s", nameOf(workload)).hasSize(1);
        return containers.getFirst();
    }

    static List<String> args(Map<String, Object> container) {
        return list(container.get("args")).stream().map(String::valueOf).toList();
    }

    /** The value of {@code --name=value} (or {@code --name value}) in the args; empty when absent. */
    static Optional<String> arg(Map<String, Object> container, String option) {
        List<String> args = args(container);
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).startsWith(option + "=")) {
                return Optional.of(args.get(i).substring(option.length() + 1));
            }
            if (args.get(i).equals(option) && i + 1 < args.size()) {
                return Optional.of(args.get(i + 1));
            }
        }
        return Optional.empty();
    }

    /** The container's env entries by name. */
    static Map<String, Map<String, Object>> env(Map<String, Object> container) {
        Object env = container.get("env");
        if (env == null) {
            return Map.of();
        }
        List<Map<String, Object>> entries = list(env);
        return entries.stream().collect(Collectors.toMap(e -> (String) e.get("name"), e -> e, (a, b) -> b,
                LinkedHashMap::new));
    }

    /** The value at a path of map keys. */
    static Object at(Object root, String... keys) {
        Object node = root;
        for (String key : keys) {
            if (!(node instanceof Map<?, ?> m) || !m.containsKey(key)) {
                throw new AssertionError("no " + String.join(".", keys) + " (stopped at " + key + ")");
            }
            node = m.get(key);
        }
        return node;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object node) {
        assertThat(node).isInstanceOf(Map.class);
        return (Map<String, Object>) node;
    }

    @SuppressWarnings("unchecked")
    static <T> List<T> list(Object node) {
        assertThat(node).isInstanceOf(List.class);
        return (List<T>) node;
    }
}
