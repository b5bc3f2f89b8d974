package io.kvserve.kvshare.index;

import io.kvserve.common.events.KvEventEntry;
import io.kvserve.common.events.KvStreamEvent;
import io.kvserve.common.kvcache.BlockHash;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Measures {@link KvIndex} against a real Redis: ingest rate, query latency, memory per block.
 *
 * <pre>
 *   bin/kvserve bench-kvshare [--redis-url redis://127.0.0.1:6379] [--blocks 1000000] [--instances 16]
 *                             [--queries 5000] [--ingest-threads 4] [--callers 8] [--seed 1]
 *   # or, from a checkout, after ./mvnw -q -o install -DskipTests -pl kvshare-service -am:
 *   java -cp "$(cat kvshare-service/target/classpath.txt)":kvshare-service/target/classes \
 *        io.kvserve.kvshare.index.KvIndexBenchmark --blocks 1000000
 * </pre>
 *
 * <p>Workload: per instance a stream of prompts of 64-256 blocks (random {@link BlockHash} chains; 60%
 * start with one of 64 shared "system prompt" prefixes of 16-64 blocks; 10% are exactly 256 blocks),
 * each stored in entries of at most 64 blocks, as an engine publishes them while it prefills; a block
 * an instance already holds is not stored again (it was a hit). No evictions. The entries are generated
 * before the clock starts, and the first 2000 are applied and dropped again to warm up. (1) ingest until {@code --blocks} block-instance pairs are indexed, single
 * threaded, then all instances dropped (the chunked drop is timed too) and ingested again with
 * {@code --ingest-threads} threads, each owning a subset of the instances (as consumers partitioned by
 * instance would); (2) queries of 256-block chains against every instance, a third full hits of stored
 * 256-block prompts, a third partial hits at a random depth, a third misses, single caller and with
 * {@code --callers} threads on the same index; (3) Redis {@code used_memory} before and after ingest.
 * Keys go under {@code kvshare-bench:<random>:} and are removed at the end.
 */
public final class KvIndexBenchmark {

    private static final int QUERY_LENGTH = 256;
    private static final int ENTRY_BLOCKS = 64;
    private static final int NUM_SHARED_PREFIXES = 64;
    private static final int WARMUP_QUERIES = 1_000;

    private KvIndexBenchmark() {
    }

    /** Command-line options. */
    record Options(String redisUrl, long numBlocks, int numInstances, int numQueries, int ingestThreads,
                   int numCallers, long seed) {

        static final String USAGE = """
                usage: bench-kvshare [--redis-url URL] [--blocks N] [--instances N] [--queries N]
                                     [--ingest-threads N] [--callers N] [--seed N]
                  --redis-url URL       Redis to measure against (default redis://127.0.0.1:6379); keys go
                                        under kvshare-bench:<random>: and are removed at the end
                  --blocks N            block-instance pairs to index (default 1000000)
                  --instances N         inference instances publishing events (default 16)
                  --queries N           measured queries per query run (default 5000)
                  --ingest-threads N    threads of the second ingest run (default 4)
                  --callers N           concurrent callers of the second query run (default 8)
                  --seed N              random seed of the workload (default 1)
                """;

        static Options parse(String[] args) {
            String redisUrl = "redis://127.0.0.1:6379";
            long numBlocks = 1_000_000;
            int numInstances = 16;
            int numQueries = 5_000;
            int ingestThreads = 4;
            int numCallers = 8;
            long seed = 1;
            for (int i = 0; i < args.length; i++) {
                String arg = args[i];
                if (arg.equals("-h") || arg.equals("--help")) {
                    throw new UsageException(null);
                }
                String name = arg;
                String value;
                int eq = arg.indexOf('=');
                if (arg.startsWith("--") && eq > 0) {
                    name = arg.substring(0, eq);
                    value = arg.substring(eq + 1);
                } else if (i + 1 < args.length) {
                    value = args[++i];
                } else {
                    throw new UsageException(arg.startsWith("--") ? arg + " needs a value" : "unexpected argument '" + arg + "'");
                }
                switch (name) {
                    case "--redis-url" -> {
                        if (!value.startsWith("redis://") && !value.startsWith("rediss://")) {
                            throw new UsageException("--redis-url must look like redis://host:port, got '" + value + "'");
                        }
                        redisUrl = value;
                    }
                    case "--blocks" -> numBlocks = positive(name, value);
                    case "--instances" -> numInstances = (int) positive(name, value);
                    case "--queries" -> numQueries = (int) positive(name, value);
                    case "--ingest-threads" -> ingestThreads = (int) positive(name, value);
                    case "--callers" -> numCallers = (int) positive(name, value);
                    case "--seed" -> seed = number(name, value);
                    default -> throw new UsageException("unknown option '" + name + "'");
                }
            }
            return new Options(redisUrl, numBlocks, numInstances, numQueries, ingestThreads, numCallers, seed);
        }

        private static long positive(String name, String value) {
            long n = number(name, value);
            if (n < 1 || n > Integer.MAX_VALUE) {
                throw new UsageException(name + " must be between 1 and " + Integer.MAX_VALUE + ", got " + value);
            }
            return n;
        }

        private static long number(String name, String value) {
            try {
                return Long.parseLong(value.replace("_", ""));
            } catch (NumberFormatException e) {
                throw new UsageException(name + " takes a whole number, got '" + value + "'");
            }
        }
    }

    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (UsageException e) {
            if (e.getMessage() != null) {
                System.err.println("bench-kvshare: " + e.getMessage());
            }
            System.err.print(Options.USAGE);
            System.exit(e.getMessage() == null ? 0 : 2);
            return;
        }
        run(options);
    }

    static void run(Options options) throws Exception {
        System.out.printf(Locale.ROOT, "bench-kvshare --redis-url %s --blocks %d --instances %d --queries %d "
                        + "--ingest-threads %d --callers %d --seed %d%n", options.redisUrl(), options.numBlocks(),
                options.numInstances(), options.numQueries(), options.ingestThreads(), options.numCallers(), options.seed());
        Workload workload = Workload.generate(options);
        System.out.printf(Locale.ROOT, "workload: %,d entries, %,d block-instance pairs, %d instances%n",
                workload.entries().size(), workload.numPairs(), options.numInstances());

        RedisClient client = RedisClient.create(options.redisUrl());
        String prefix = "kvshare-bench:" + UUID.randomUUID().toString().substring(0, 8) + ":";
        try (StatefulRedisConnection<byte[], byte[]> connection = client.connect(ByteArrayCodec.INSTANCE);
             KvIndex index = new KvIndex(connection, prefix)) {
            try {
                benchmark(options, workload, index, connection);
            } finally {
                deleteKeys(connection, prefix);
            }
        } finally {
            client.shutdown();
        }
    }

    private static void benchmark(Options options, Workload workload, KvIndex index,
                                  StatefulRedisConnection<byte[], byte[]> connection) throws Exception {
        List<String> ids = workload.instanceIds();
        // warm-up (JIT, script cache), then an empty index again
        for (KvEventEntry entry : workload.entries().subList(0, Math.min(2_000, workload.entries().size()))) {
            index.apply(entry);
        }
        for (String id : ids) {
            index.dropInstance(id);
        }
        long memoryBefore = usedMemory(connection);

        long t0 = System.nanoTime();
        for (KvEventEntry entry : workload.entries()) {
            index.apply(entry);
        }
        double ingest1Seconds = (System.nanoTime() - t0) / 1e9;
        long numEntries = index.numEntries();
        long numBlocks = index.numBlocks();
        long memoryAfter = usedMemory(connection);
        byte[] forwardKey = (index.prefix() + "inst:" + ids.get(0) + ":blocks").getBytes(StandardCharsets.UTF_8);
        Long forwardBytes = connection.sync().memoryUsage(forwardKey);
        long forwardMembers = connection.sync().scard(forwardKey);

        t0 = System.nanoTime();
        long dropped = 0;
        for (String id : ids) {
            dropped += index.dropInstance(id);
        }
        double dropSeconds = (System.nanoTime() - t0) / 1e9;

        int threads = Math.min(options.ingestThreads(), ids.size());
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(threads, options.numCallers()));
        t0 = System.nanoTime();
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int slot = t;
            done.add(pool.submit(() -> {
                for (KvEventEntry entry : workload.entries()) {
                    if (Math.floorMod(workload.instanceIndex(entry.instance()), threads) == slot) {
                        index.apply(entry);
                    }
                }
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
        double ingestNSeconds = (System.nanoTime() - t0) / 1e9;
        if (index.numEntries() != numEntries) {
            throw new IllegalStateException("threaded ingest indexed " + index.numEntries() + " pairs, single " + numEntries);
        }

        List<List<BlockHash>> queries = workload.queries(WARMUP_QUERIES + options.numQueries());
        for (int q = 0; q < WARMUP_QUERIES; q++) {
            index.longestPrefixes(queries.get(q), ids);
        }
        List<List<BlockHash>> measured = queries.subList(WARMUP_QUERIES, queries.size());
        long[] single = new long[measured.size()];
        long hits = 0;
        t0 = System.nanoTime();
        for (int q = 0; q < measured.size(); q++) {
            long s = System.nanoTime();
            hits += index.longestPrefixes(measured.get(q), ids).values().stream().mapToInt(Integer::intValue).max().orElse(0);
            single[q] = System.nanoTime() - s;
        }
        double singleSeconds = (System.nanoTime() - t0) / 1e9;

        int callers = options.numCallers();
        long[] concurrent = new long[measured.size()];
        done.clear();
        t0 = System.nanoTime();
        for (int c = 0; c < callers; c++) {
            int slot = c;
            done.add(pool.submit(() -> {
                for (int q = slot; q < measured.size(); q += callers) {
                    long s = System.nanoTime();
                    index.longestPrefixes(measured.get(q), ids);
                    concurrent[q] = System.nanoTime() - s;
                }
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
        double concurrentSeconds = (System.nanoTime() - t0) / 1e9;
        pool.shutdown();

        double pairsPerSecond1 = numEntries / ingest1Seconds;
        double pairsPerSecondN = numEntries / ingestNSeconds;
        int numEntriesApplied = workload.entries().size();
        System.out.println();
        System.out.println("ingest                              blocks/s     entries/s   seconds");
        System.out.printf(Locale.ROOT, "  1 thread                      %,12.0f  %,12.0f  %8.2f%n",
                pairsPerSecond1, numEntriesApplied / ingest1Seconds, ingest1Seconds);
        System.out.printf(Locale.ROOT, "  %d threads (by instance)       %,12.0f  %,12.0f  %8.2f%n",
                threads, pairsPerSecondN, numEntriesApplied / ingestNSeconds, ingestNSeconds);
        System.out.printf(Locale.ROOT, "  dropInstance x %d (chunked)   %,12.0f  %12s  %8.2f%n",
                ids.size(), dropped / dropSeconds, "-", dropSeconds);
        System.out.printf(Locale.ROOT, "  indexed: %,d block-instance pairs, %,d distinct blocks%n", numEntries, numBlocks);
        System.out.println();
        System.out.printf(Locale.ROOT, "query (%d-block chains, %d instances)  p50 us   p90 us   p99 us   max us   queries/s%n",
                QUERY_LENGTH, ids.size());
        printLatency("  1 caller                  ", single, measured.size() / singleSeconds);
        printLatency(String.format(Locale.ROOT, "  %d callers                 ", callers), concurrent,
                measured.size() / concurrentSeconds);
        String[] kinds = {"full hits", "partial hits", "misses"};
        for (int kind = 0; kind < 3; kind++) {
            List<Long> ofKind = new ArrayList<>();
            for (int q = 0; q < measured.size(); q++) {
                if ((WARMUP_QUERIES + q) % 3 == kind) {
                    ofKind.add(single[q]);
                }
            }
            printLatency(String.format(Locale.ROOT, "    1 caller, %-13s", kinds[kind]),
                    ofKind.stream().mapToLong(Long::longValue).toArray(), Double.NaN);
        }
        long[] pings = new long[measured.size()];
        for (int q = 0; q < pings.length; q++) {
            long s = System.nanoTime();
            connection.sync().ping();
            pings[q] = System.nanoTime() - s;
        }
        printLatency("    PING round trip (floor)  ", pings, Double.NaN);
        System.out.printf(Locale.ROOT, "  mean longest hit: %.1f blocks%n", (double) hits / measured.size());
        System.out.println();
        long deltaBytes = memoryAfter - memoryBefore;
        System.out.printf(Locale.ROOT, "memory: used_memory +%,d bytes = %.0f bytes per block-instance pair, "
                + "%.0f bytes per distinct block%n", deltaBytes, (double) deltaBytes / numEntries, (double) deltaBytes / numBlocks);
        if (forwardBytes != null && forwardMembers > 0) {
            System.out.printf(Locale.ROOT, "  of which the instance's block SET (MEMORY USAGE of %s): %.0f bytes per member, "
                    + "the rest the blk:<h> HASHes%n", ids.get(0), (double) forwardBytes / forwardMembers);
        }
        System.out.println();
        double cpuDemand = options.numInstances() * 1_000.0 / 16;
        double gpuDemand = options.numInstances() * 50_000.0 / 16;
        System.out.println("demand (16 tokens per block)           blocks/s   measured 1-thread ingest covers");
        System.out.printf(Locale.ROOT, "  %d CPU instances at ~1k tokens/s  %,10.0f   %,.0fx%n", options.numInstances(),
                cpuDemand, pairsPerSecond1 / cpuDemand);
        System.out.printf(Locale.ROOT, "  %d GPU instances at ~50k tokens/s %,10.0f   %,.2fx (%d threads: %,.2fx)%n",
                options.numInstances(), gpuDemand, pairsPerSecond1 / gpuDemand, threads, pairsPerSecondN / gpuDemand);
    }

    private static void printLatency(String label, long[] nanos, double perSecond) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "%s           %7.0f  %7.0f  %7.0f  %7.0f  %10s%n", label,
                percentile(sorted, 0.50), percentile(sorted, 0.90), percentile(sorted, 0.99),
                sorted[sorted.length - 1] / 1e3, Double.isNaN(perSecond) ? "" : String.format(Locale.ROOT, "%,.0f", perSecond));
    }

    private static double percentile(long[] sorted, double p) {
        int i = (int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
        return sorted[Math.max(i, 0)] / 1e3;
    }

    private static long usedMemory(StatefulRedisConnection<byte[], byte[]> connection) {
        for (String line : connection.sync().info("memory").split("\r?\n")) {
            if (line.startsWith("used_memory:")) {
                return Long.parseLong(line.substring("used_memory:".length()).trim());
            }
        }
        throw new IllegalStateException("INFO memory has no used_memory");
    }

    private static void deleteKeys(StatefulRedisConnection<byte[], byte[]> connection, String prefix) {
        ScanArgs args = ScanArgs.Builder.matches((prefix + "*").getBytes(StandardCharsets.UTF_8)).limit(10_000);
        KeyScanCursor<byte[]> cursor = connection.sync().scan(args);
        while (true) {
            if (!cursor.getKeys().isEmpty()) {
                connection.sync().unlink(cursor.getKeys().toArray(byte[][]::new));
            }
            if (cursor.isFinished()) {
                return;
            }
            cursor = connection.sync().scan(ScanCursor.of(cursor.getCursor()), args);
        }
    }

    /** The generated entries, in publish order (instances interleaved), and what queries can hit. */
    record Workload(List<String> instanceIds, List<KvEventEntry> entries, long numPairs,
                    List<List<BlockHash>> longPrompts, List<List<BlockHash>> prompts, Random random) {

        static Workload generate(Options options) {
            Random random = new Random(options.seed());
            int n = options.numInstances();
            List<String> ids = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                ids.add("bench-" + i);
            }
            List<List<BlockHash>> shared = new ArrayList<>();
            for (int s = 0; s < NUM_SHARED_PREFIXES; s++) {
                shared.add(randomChain(random, 16 + random.nextInt(49)));
            }
            List<Set<BlockHash>> held = new ArrayList<>();
            long[] seqs = new long[n];
            for (int i = 0; i < n; i++) {
                held.add(new HashSet<>());
            }
            List<KvEventEntry> entries = new ArrayList<>();
            List<List<BlockHash>> longPrompts = new ArrayList<>();
            List<List<BlockHash>> prompts = new ArrayList<>();
            long numPairs = 0;
            while (numPairs < options.numBlocks()) {
                int inst = random.nextInt(n);
                int length = random.nextInt(10) == 0 ? QUERY_LENGTH : 64 + random.nextInt(QUERY_LENGTH - 64 + 1);
                List<BlockHash> prompt = new ArrayList<>(length);
                if (random.nextInt(10) < 6) {
                    prompt.addAll(shared.get(random.nextInt(shared.size())));
                }
                prompt.addAll(randomChain(random, length - prompt.size()));
                int first = 0;
                while (first < prompt.size() && held.get(inst).contains(prompt.get(first))) {
                    first++;
                }
                for (int from = first; from < prompt.size() && numPairs < options.numBlocks(); from += ENTRY_BLOCKS) {
                    int to = (int) Math.min(Math.min(prompt.size(), from + ENTRY_BLOCKS), from + options.numBlocks() - numPairs);
                    List<BlockHash> blocks = List.copyOf(prompt.subList(from, to));
                    Optional<BlockHash> parent = from == 0 ? Optional.empty() : Optional.of(prompt.get(from - 1));
                    entries.add(new KvEventEntry(ids.get(inst), "%016x".formatted(options.seed() + inst), ++seqs[inst],
                            "bench-model", 0, List.of(new KvStreamEvent.Stored(blocks, parent, 16))));
                    held.get(inst).addAll(blocks);
                    numPairs += blocks.size();
                }
                if (prompts.size() < 20_000) {
                    (length == QUERY_LENGTH ? longPrompts : prompts).add(prompt);
                }
            }
            return new Workload(ids, entries, numPairs, longPrompts, prompts, random);
        }

        int instanceIndex(String id) {
            return Integer.parseInt(id.substring("bench-".length()));
        }

        /** Query chains of 256 blocks: full hits, partial hits at a random depth, misses, in turn. */
        List<List<BlockHash>> queries(int count) {
            List<List<BlockHash>> queries = new ArrayList<>(count);
            for (int q = 0; q < count; q++) {
                int kind = q % 3;
                List<BlockHash> chain = new ArrayList<>(QUERY_LENGTH);
                if (kind == 0 && !longPrompts.isEmpty()) {
                    chain.addAll(longPrompts.get(random.nextInt(longPrompts.size())));
                } else if (kind != 2 && !prompts.isEmpty()) {
                    List<BlockHash> prompt = prompts.get(random.nextInt(prompts.size()));
                    chain.addAll(prompt.subList(0, 1 + random.nextInt(prompt.size())));
                }
                chain.addAll(randomChain(random, QUERY_LENGTH - chain.size()));
                queries.add(chain);
            }
            return queries;
        }

        private static List<BlockHash> randomChain(Random random, int length) {
            List<BlockHash> chain = new ArrayList<>(length);
            for (int i = 0; i < length; i++) {
                chain.add(new BlockHash(random.nextLong(), random.nextLong()));
            }
            return chain;
        }
    }
}
