package io.kvserve.cli.benchserving;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The samples of one scrape of a Prometheus text endpoint ({@code /actuator/prometheus}), and what
 * the gateway benchmark computes from two of them: a histogram's buckets over the interval between
 * the scrapes, and its quantiles estimated from those buckets as PromQL's {@code histogram_quantile}
 * does (linear interpolation inside the bucket the rank falls in).
 *
 * <pre>
 *   name{label="value",le="0.002"} 1234.0
 *   └─name─┘└──────labels────────┘ └value┘     comments (# HELP, # TYPE) and blank lines are skipped
 * </pre>
 */
final class PrometheusText {

    /** One sample: the series' name, its labels, its value. */
    record Sample(String name, Map<String, String> labels, double value) {
    }

    private final List<Sample> samples;

    private PrometheusText(List<Sample> samples) {
        this.samples = samples;
    }

    static PrometheusText parse(String text) {
        List<Sample> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            samples.add(sample(l));
        }
        return new PrometheusText(List.copyOf(samples));
    }

    private static Sample sample(String line) {
        int brace = line.indexOf('{');
        int space = line.indexOf(' ');
        Map<String, String> labels = new LinkedHashMap<>();
        String name;
        String rest;
        if (brace >= 0 && (space < 0 || brace < space)) {
            name = line.substring(0, brace);
            int i = brace + 1;
            while (i < line.length() && line.charAt(i) != '}') {
                int eq = line.indexOf('=', i);
                String key = line.substring(i, eq).strip();
                StringBuilder value = new StringBuilder();
                int j = eq + 2; // past ="
                for (; line.charAt(j) != '"'; j++) {
                    char c = line.charAt(j);
                    if (c == '\\') {
                        char next = line.charAt(++j);
                        value.append(next == 'n' ? '\n' : next);
                    } else {
                        value.append(c);
                    }
                }
                labels.put(key, value.toString());
                i = j + 1;
                if (i < line.length() && line.charAt(i) == ',') {
                    i++;
                }
            }
            rest = line.substring(i + 1).strip();
        } else {
            name = line.substring(0, space);
            rest = line.substring(space + 1).strip();
        }
        String value = rest.split("\\s+")[0]; // a timestamp may follow
        return new Sample(name, Map.copyOf(labels), parseValue(value));
    }

    private static double parseValue(String s) {
        return switch (s) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(s);
        };
    }

    /** The value of the first sample named {@code name} whose labels include {@code labels}; NaN when none. */
    double value(String name, Map<String, String> labels) {
        for (Sample s : samples) {
            if (s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet())) {
                return s.value();
            }
        }
        return Double.NaN;
    }

    /** The sum of every sample named {@code name}, whatever its labels; NaN when there is none. */
    double sum(String name) {
        double sum = 0;
        boolean found = false;
        for (Sample s : samples) {
            if (s.name().equals(name)) {
                sum += s.value();
                found = true;
            }
        }
        return found ? sum : Double.NaN;
    }

    /** The cumulative buckets of the histogram {@code name} ({@code name_bucket}) with {@code labels}, by upper bound. */
    Buckets buckets(String name, Map<String, String> labels) {
        TreeMap<Double, Double> counts = new TreeMap<>();
        for (Sample s : samples) {
            if (s.name().equals(name + "_bucket") && s.labels().entrySet().containsAll(labels.entrySet())
                    && s.labels().containsKey("le")) {
                counts.merge(parseValue(s.labels().get("le")), s.value(), Double::sum);
            }
        }
        return new Buckets(counts);
    }

    /**
     * A histogram's cumulative bucket counts by upper bound ({@code le}), the last one {@code +Inf}.
     *
     * @param cumulativeCounts upper bound -> observations at or below it
     */
    record Buckets(TreeMap<Double, Double> cumulativeCounts) {

        /** Observations in total (the {@code +Inf} bucket). */
        double count() {
            return cumulativeCounts.isEmpty() ? 0 : cumulativeCounts.lastEntry().getValue();
        }

        /** The observations made between {@code earlier} and this scrape, bucket by bucket. */
        Buckets minus(Buckets earlier) {
            TreeMap<Double, Double> delta = new TreeMap<>();
            cumulativeCounts.forEach((le, n) -> delta.put(le, n - earlier.cumulativeCounts.getOrDefault(le, 0.0)));
            return new Buckets(delta);
        }

        Buckets plus(Buckets other) {
            TreeMap<Double, Double> sum = new TreeMap<>(cumulativeCounts);
            other.cumulativeCounts.forEach((le, n) -> sum.merge(le, n, Double::sum));
            return new Buckets(sum);
        }

        /** The share (0..1) of observations at or below {@code upperBound}, which must be a bucket's bound; NaN when empty. */
        double shareAtOrBelow(double upperBound) {
            Double n = cumulativeCounts.get(upperBound);
            if (n == null) {
                throw new IllegalArgumentException("no bucket le=" + upperBound + "; the bounds are " + cumulativeCounts.keySet());
            }
            return count() == 0 ? Double.NaN : n / count();
        }

        /**
         * The {@code q}-quantile (0..1) as {@code histogram_quantile} estimates it: the bucket the rank
         * {@code q * count} falls in, linearly interpolated between its bounds (the first bucket's
         * lower bound is 0). A rank in the {@code +Inf} bucket gives the highest finite bound, as
         * Prometheus does: the true value is above it. NaN when there are no observations.
         */
        double quantile(double q) {
            if (q < 0 || q > 1) {
                throw new IllegalArgumentException("quantile " + q + " is outside 0..1");
            }
            double total = count();
            if (total <= 0) {
                return Double.NaN;
            }
            double rank = q * total;
            double lowerBound = 0;
            double countBelow = 0;
            for (Map.Entry<Double, Double> bucket : cumulativeCounts.entrySet()) {
                double upperBound = bucket.getKey();
                double cumulative = bucket.getValue();
                if (cumulative >= rank && cumulative > countBelow) {
                    if (Double.isInfinite(upperBound)) {
                        return lowerBound;
                    }
                    return lowerBound + (upperBound - lowerBound) * (rank - countBelow) / (cumulative - countBelow);
                }
                lowerBound = upperBound;
                countBelow = cumulative;
            }
            return lowerBound;
        }

        /** Whether {@code q}'s rank falls in the {@code +Inf} bucket (then {@link #quantile} is only a lower bound). */
        boolean beyondLastBound(double q) {
            Map.Entry<Double, Double> lastFinite = cumulativeCounts.lowerEntry(Double.POSITIVE_INFINITY);
            return count() > 0 && lastFinite != null && lastFinite.getValue() < q * count();
        }
    }
}
