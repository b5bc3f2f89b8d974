package io.kvserve.scheduler.sim;

import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/**
 * The simulator's workloads. Prompts are built from segments of whole 16-token blocks, each block
 * named by a content id; the block hash chains the previous hash, the content and a salt
 * ({@link #chain}). Every tenant has its own secret salt, so two tenants' blocks never share a hash,
 * except the operator-published prefix, which is chained with the public salt 0 and so is the same
 * for everyone (the rule of the architecture's "Tenancy" section).
 *
 * <ul>
 *   <li>{@code shared-prefix}: published prefix (512 tokens) + the tenant's system prompt (1-4k
 *       tokens, fixed per tenant) + a short question (16-128 tokens); output 32-192.</li>
 *   <li>{@code few-shot}: per tenant 4 templates, each an instruction header (256 tokens) and 16
 *       examples (128 tokens each); a request takes 2-8 examples in one of 4 orders per template
 *       (popular orders first), then a question; output 16-128.</li>
 *   <li>{@code multi-turn}: chat sessions of 2-8 turns after the tenant's system prompt (256-1024
 *       tokens); turn k's prompt is turn k-1's prompt + its answer + a new question (16-96 tokens);
 *       think time between turns exponential, mean 15 s; sessions end at 8k tokens.</li>
 *   <li>{@code no-reuse}: every prompt fresh (256-2048 tokens): the control.</li>
 * </ul>
 */
public final class Workloads {

    public static final List<String> NAMES = List.of("shared-prefix", "few-shot", "multi-turn", "no-reuse");

    static final int PUBLISHED_PREFIX_BLOCKS = 32;
    private static final long PUBLIC_SALT = 0;

    private Workloads() {
    }

    public static Workload create(String name, WorkloadConfig config) {
        return switch (name) {
            case "shared-prefix" -> new SharedPrefix(config);
            case "few-shot" -> new FewShot(config);
            case "multi-turn" -> new MultiTurn(config);
            case "no-reuse" -> new NoReuse(config);
            default -> throw new IllegalArgumentException("unknown workload '" + name + "': use one of " + NAMES);
        };
    }

    /** One link of the block-hash chain: {@code h_b = H(h_{b-1}, content_b, salt_b)}. */
    static long chain(long previousHash, long contentId, long salt) {
        return mix(previousHash * 0x9E3779B97F4A7C15L + mix(contentId ^ mix(salt + 0x632BE59BD9B4E019L)));
    }

    /** Content id of structured text: a kind and up to three coordinates. */
    static long content(int kind, long a, long b, long c) {
        return mix(mix(mix(kind * 0xD1B54A32D192ED03L + a) + b) + c);
    }

    /** SplitMix64's finalizer (Steele, Lea, Flood 2014). */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public static String tenantId(int tenant) {
        return "tenant-" + tenant;
    }

    /** Shared parts: random source, arrivals, tenant draw, salts, fresh content, id counter. */
    abstract static class Base implements Workload {
        static final int KIND_FRESH = 1, KIND_PUBLISHED = 2, KIND_SYSTEM = 3, KIND_HEADER = 4, KIND_EXAMPLE = 5;

        final WorkloadConfig config;
        final SplittableRandom random;
        final long[] tenantSalts;
        private final double[] tenantCdf;
        private long nextFreshContent;
        private long nextId;

        Base(WorkloadConfig config) {
            this.config = config;
            this.random = new SplittableRandom(config.seed());
            this.tenantSalts = new long[config.numTenants()];
            this.tenantCdf = new double[config.numTenants()];
            double sum = 0;
            for (int t = 0; t < config.numTenants(); t++) {
                tenantSalts[t] = mix(config.seed() * 31 + t + 1) | 1; // never the public salt 0
                sum += 1.0 / Math.pow(t + 1, config.tenantSkew());
                tenantCdf[t] = sum;
            }
            for (int t = 0; t < tenantCdf.length; t++) {
                tenantCdf[t] /= sum;
            }
        }

        int drawTenant() {
            double u = random.nextDouble();
            for (int t = 0; t < tenantCdf.length; t++) {
                if (u < tenantCdf[t]) {
                    return t;
                }
            }
            return tenantCdf.length - 1;
        }

        int uniform(int lo, int hiInclusive) {
            return lo + random.nextInt(hiInclusive - lo + 1);
        }

        /** Content never seen before (a user's question, a model's answer). */
        long freshContent() {
            return content(KIND_FRESH, config.seed(), nextFreshContent++, 0);
        }

        SimRequest request(double arrivalSeconds, int tenant, long[] blockHashes, int numOutputTokens) {
            return new SimRequest(nextId++, arrivalSeconds, tenantId(tenant), blockHashes, numOutputTokens);
        }
    }

    /** Appends blocks to a chain under construction. */
    static final class ChainBuilder {
        long[] hashes = new long[64];
        int size;

        ChainBuilder() {
        }

        ChainBuilder(long[] prefix) {
            hashes = Arrays.copyOf(prefix, Math.max(64, prefix.length * 2));
            size = prefix.length;
        }

        ChainBuilder add(long contentId, long salt) {
            if (size == hashes.length) {
                hashes = Arrays.copyOf(hashes, size * 2);
            }
            long previous = size == 0 ? 0 : hashes[size - 1];
            hashes[size] = chain(previous, contentId, salt);
            size++;
            return this;
        }

        long[] build() {
            return Arrays.copyOf(hashes, size);
        }
    }

    static final class SharedPrefix extends Base {
        private final int[] systemBlocks;
        private double clock;

        SharedPrefix(WorkloadConfig config) {
            super(config);
            systemBlocks = new int[config.numTenants()];
            for (int t = 0; t < systemBlocks.length; t++) {
                systemBlocks[t] = uniform(64, 256);
            }
        }

        @Override
        public String name() {
            return "shared-prefix";
        }

        @Override
        public SimRequest next() {
            clock = config.arrival().nextArrival(clock, random);
            if (clock >= config.durationSeconds()) {
                return null;
            }
            int tenant = drawTenant();
            long salt = tenantSalts[tenant];
            ChainBuilder chain = new ChainBuilder();
            for (int i = 0; i < PUBLISHED_PREFIX_BLOCKS; i++) {
                chain.add(content(KIND_PUBLISHED, i, 0, 0), PUBLIC_SALT);
            }
            for (int i = 0; i < systemBlocks[tenant]; i++) {
                chain.add(content(KIND_SYSTEM, tenant, i, 0), salt);
            }
            int numQuestion = uniform(1, 8);
            for (int i = 0; i < numQuestion; i++) {
                chain.add(freshContent(), salt);
            }
            return request(clock, tenant, chain.build(), uniform(32, 192));
        }
    }

    static final class FewShot extends Base {
        static final int NUM_TEMPLATES = 4, NUM_EXAMPLES = 16, NUM_ORDERS = 4, HEADER_BLOCKS = 16, EXAMPLE_BLOCKS = 8;
        /** (tenant, template, order) -> example indices */
        private final int[][][][] orders;
        private double clock;

        FewShot(WorkloadConfig config) {
            super(config);
            orders = new int[config.numTenants()][NUM_TEMPLATES][NUM_ORDERS][];
            for (int[][][] tenant : orders) {
                for (int[][] template : tenant) {
                    for (int o = 0; o < NUM_ORDERS; o++) {
                        int[] perm = new int[NUM_EXAMPLES];
                        for (int i = 0; i < perm.length; i++) {
                            perm[i] = i;
                        }
                        for (int i = perm.length - 1; i > 0; i--) {
                            int j = random.nextInt(i + 1);
                            int tmp = perm[i];
                            perm[i] = perm[j];
                            perm[j] = tmp;
                        }
                        template[o] = perm;
                    }
                }
            }
        }

        @Override
        public String name() {
            return "few-shot";
        }

        @Override
        public SimRequest next() {
            clock = config.arrival().nextArrival(clock, random);
            if (clock >= config.durationSeconds()) {
                return null;
            }
            int tenant = drawTenant();
            long salt = tenantSalts[tenant];
            int template = random.nextInt(NUM_TEMPLATES);
            // order o with weight 1/(o+1): the popular ordering is reused most
            double u = random.nextDouble() * (1 + 1 / 2.0 + 1 / 3.0 + 1 / 4.0);
            int order = u < 1 ? 0 : u < 1.5 ? 1 : u < 1.5 + 1 / 3.0 ? 2 : 3;
            ChainBuilder chain = new ChainBuilder();
            for (int i = 0; i < HEADER_BLOCKS; i++) {
                chain.add(content(KIND_HEADER, tenant, template, i), salt);
            }
            int numExamples = uniform(2, 8);
            int[] perm = orders[tenant][template][order];
            for (int e = 0; e < numExamples; e++) {
                for (int i = 0; i < EXAMPLE_BLOCKS; i++) {
                    chain.add(content(KIND_EXAMPLE, tenant, template * NUM_EXAMPLES + perm[e], i), salt);
                }
            }
            int numQuestion = uniform(1, 4);
            for (int i = 0; i < numQuestion; i++) {
                chain.add(freshContent(), salt);
            }
            return request(clock, tenant, chain.build(), uniform(16, 128));
        }
    }

    static final class MultiTurn extends Base {
        static final int MIN_TURNS = 2, MAX_TURNS = 8, MAX_PROMPT_BLOCKS = 512;
        static final double MEAN_THINK_SECONDS = 15;

        /** A session's next turn, due at {@code dueSeconds}. */
        private record Turn(double dueSeconds, long sessionId, int tenant, long[] previousPrompt, int previousOutput,
                            int turnsLeft) {
        }

        private final PriorityQueue<Turn> pending = new PriorityQueue<>((a, b) -> a.dueSeconds != b.dueSeconds
                ? Double.compare(a.dueSeconds, b.dueSeconds) : Long.compare(a.sessionId, b.sessionId));
        private final ArrivalProcess sessionArrivals;
        private final int[] systemBlocks;
        private double nextSessionSeconds;
        private long nextSessionId;

        MultiTurn(WorkloadConfig config) {
            super(config);
            sessionArrivals = config.arrival().withRate(config.arrival().ratePerSecond() * 2 / (MIN_TURNS + MAX_TURNS));
            systemBlocks = new int[config.numTenants()];
            for (int t = 0; t < systemBlocks.length; t++) {
                systemBlocks[t] = uniform(16, 64);
            }
            nextSessionSeconds = sessionArrivals.nextArrival(0, random);
        }

        @Override
        public String name() {
            return "multi-turn";
        }

        @Override
        public SimRequest next() {
            Turn turn;
            if (!pending.isEmpty() && pending.peek().dueSeconds <= nextSessionSeconds) {
                turn = pending.poll();
            } else if (nextSessionSeconds < config.durationSeconds()) {
                int tenant = drawTenant();
                ChainBuilder system = new ChainBuilder();
                for (int i = 0; i < systemBlocks[tenant]; i++) {
                    system.add(content(KIND_SYSTEM, tenant, i, 0), tenantSalts[tenant]);
                }
                turn = new Turn(nextSessionSeconds, nextSessionId++, tenant, system.build(), 0,
                        uniform(MIN_TURNS, MAX_TURNS));
                nextSessionSeconds = sessionArrivals.nextArrival(nextSessionSeconds, random);
            } else {
                turn = pending.poll();
            }
            if (turn == null || turn.dueSeconds >= config.durationSeconds()) {
                return null;
            }
            long salt = tenantSalts[turn.tenant];
            ChainBuilder chain = new ChainBuilder(turn.previousPrompt);
            int numAnswer = (turn.previousOutput + SimRequest.BLOCK_SIZE - 1) / SimRequest.BLOCK_SIZE;
            for (int i = 0; i < numAnswer; i++) {
                chain.add(freshContent(), salt);
            }
            int numQuestion = uniform(1, 6);
            for (int i = 0; i < numQuestion; i++) {
                chain.add(freshContent(), salt);
            }
            long[] prompt = chain.build();
            int numOutput = uniform(32, 256);
            int turnsLeft = turn.turnsLeft - 1;
            if (turnsLeft > 0 && prompt.length + 32 < MAX_PROMPT_BLOCKS) {
                double think = -Math.log(1.0 - random.nextDouble()) * MEAN_THINK_SECONDS;
                pending.add(new Turn(turn.dueSeconds + think, turn.sessionId, turn.tenant, prompt, numOutput, turnsLeft));
            }
            return request(turn.dueSeconds, turn.tenant, prompt, numOutput);
        }
    }

    static final class NoReuse extends Base {
        private double clock;

        NoReuse(WorkloadConfig config) {
            super(config);
        }

        @Override
        public String name() {
            return "no-reuse";
        }

        @Override
        public SimRequest next() {
            clock = config.arrival().nextArrival(clock, random);
            if (clock >= config.durationSeconds()) {
                return null;
            }
            int tenant = drawTenant();
            ChainBuilder chain = new ChainBuilder();
            int numBlocks = uniform(16, 128);
            for (int i = 0; i < numBlocks; i++) {
                chain.add(freshContent(), tenantSalts[tenant]);
            }
            return request(clock, tenant, chain.build(), uniform(32, 256));
        }
    }
}
