package io.kvserve.deploy;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The deployment files as the tests read them: the checkout's root, YAML loaded the way Compose loads
 * it (anchors and merge keys resolved, {@code ${VAR:-default}} interpolated with its default, so the
 * checks see what {@code docker compose up} sees with no environment set), and the services' defaults.
 */
final class Deployment {

    /** {@code ${VAR}}, {@code ${VAR:-default}}, {@code ${VAR-default}}; {@code $$} is a literal {@code $}. */
    private static final Pattern VARIABLE = Pattern.compile("\\$\\$|\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?}");

    /** Launcher subcommand -> the defaults file of the service it runs (on the launcher's classpath). */
    static final Map<String, String> SERVICE_DEFAULTS = Map.of(
            "serve", "kvserve-inference.properties",
            "kvshare", "kvserve-kvshare.properties",
            "scheduler", "kvserve-scheduler.properties",
            "gateway", "kvserve-gateway.properties");

    private Deployment() {
    }

    static Path root() {
        return Path.of(System.getProperty("kvserve.root", "..")).toAbsolutePath().normalize();
    }

    static Path composeFile() {
        return root().resolve("docker-compose.yml");
    }

    static Map<String, Object> loadYaml(Path file) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        try (InputStream in = Files.newInputStream(file)) {
            Map<String, Object> document = new Yaml(options).load(in);
            return map(interpolate(document));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every string in {@code node} with Compose's variables replaced by their defaults (empty when none). */
    static Object interpolate(Object node) {
        return switch (node) {
            case String s -> {
                Matcher m = VARIABLE.matcher(s);
                StringBuilder out = new StringBuilder();
                while (m.find()) {
                    String value = m.group().equals("$$") ? "$" : m.group(2) == null ? "" : m.group(2);
                    m.appendReplacement(out, Matcher.quoteReplacement(value));
                }
                m.appendTail(out);
                yield out.toString();
            }
            case Map<?, ?> map -> {
                Map<String, Object> copy = new LinkedHashMap<>();
                map.forEach((k, v) -> copy.put(String.valueOf(k), interpolate(v)));
                yield copy;
            }
            case List<?> list -> list.stream().map(Deployment::interpolate).toList();
            case null -> null;
            default -> node;
        };
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object node) {
        return node == null ? Map.of() : (Map<String, Object>) node;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object node) {
        return node == null ? List.of() : (List<Object>) node;
    }

    /** A command or entrypoint: Compose takes a list, or a string it splits on whitespace. */
    static List<String> words(Object node) {
        if (node == null) {
            return List.of();
        }
        if (node instanceof String s) {
            return List.of(s.trim().split("\\s+"));
        }
        List<String> words = new ArrayList<>();
        list(node).forEach(w -> words.add(String.valueOf(w)));
        return words;
    }

    /** The defaults file a launcher subcommand's service loads. */
    static Properties serviceDefaults(String subcommand) {
        String file = SERVICE_DEFAULTS.get(subcommand);
        Properties properties = new Properties();
        try (InputStream in = Deployment.class.getClassLoader().getResourceAsStream(file)) {
            if (in == null) {
                throw new IllegalStateException(file + " is not on the launcher's classpath");
            }
            properties.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return properties;
    }
}
