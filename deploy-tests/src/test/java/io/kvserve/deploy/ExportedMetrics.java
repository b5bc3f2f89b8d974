package io.kvserve.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The Prometheus series names the services export, read from their source the way a grep would: each
 * Micrometer meter registered with a literal name, turned into the names Micrometer's Prometheus
 * registry writes ({@code .} becomes {@code _}; counters end in {@code _total}; timers in
 * {@code _seconds} with {@code _count}, {@code _sum}, {@code _max}, {@code _bucket}; summaries the same
 * without the unit). Meters registered by libraries (Resilience4j's breakers) are listed by hand.
 */
final class ExportedMetrics {

    /** {@code Counter.builder("name")}, {@code Timer.builder("name")}, ... */
    private static final Pattern BUILDER = Pattern.compile(
            "\\b(Counter|FunctionCounter|Timer|Gauge|DistributionSummary)\\s*\\.\\s*builder\\(\\s*\"([^\"]+)\"");
    /** {@code registry.gauge("name", ...)}, and InferenceMetrics' {@code gauge/counter/tenantCounter/latency("name", ...)}
     * helpers. */
    private static final Pattern HELPER = Pattern.compile("(?<![A-Za-z0-9_])(gauge|counter|tenantCounter|latency)\\(\\s*\"([^\"]+)\"");

    /** Series from libraries, not from a builder in our code: resilience4j-micrometer's breaker state. */
    static final Set<String> FROM_LIBRARIES = Set.of("resilience4j_circuitbreaker_state", "up");

    private ExportedMetrics() {
    }

    /** Every series name the main sources of the checkout under {@code root} register. */
    static Set<String> scan(Path root) {
        Set<String> names = new TreeSet<>(FROM_LIBRARIES);
        try (Stream<Path> files = Files.walk(root)) {
            List<Path> sources = files
                    .filter(p -> p.toString().endsWith(".java") && p.toString().contains("/src/main/java/"))
                    .filter(p -> !p.toString().contains("/target/") && !p.toString().contains("/.git/"))
                    .toList();
            for (Path source : sources) {
                String code = Files.readString(source);
                Matcher m = BUILDER.matcher(code);
                while (m.find()) {
                    names.addAll(series(m.group(1), m.group(2)));
                }
                Matcher h = HELPER.matcher(code);
                while (h.find()) {
                    String type = switch (h.group(1)) {
                        case "gauge" -> "Gauge";
                        case "counter", "tenantCounter" -> "Counter";
                        default -> "Timer";
                    };
                    names.addAll(series(type, h.group(2)));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return names;
    }

    /** The series one meter appears as on /actuator/prometheus. */
    static List<String> series(String type, String meterName) {
        String name = meterName.replace('.', '_');
        return switch (type) {
            case "Counter", "FunctionCounter" -> List.of(strip(name, "_total") + "_total");
            case "Timer" -> {
                String base = strip(name, "_seconds") + "_seconds";
                yield List.of(base, base + "_count", base + "_sum", base + "_max", base + "_bucket");
            }
            case "DistributionSummary" -> List.of(name, name + "_count", name + "_sum", name + "_max", name + "_bucket");
            default -> List.of(name);
        };
    }

    private static String strip(String name, String suffix) {
        return name.endsWith(suffix) ? name.substring(0, name.length() - suffix.length()) : name;
    }
}
