package io.kvserve.kvshare.tenant;

import io.kvserve.common.kvcache.BlockHasher;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The prefixes operators publish as shared, per model, and the match of a prompt against them.
 *
 * <h2>Design</h2>
 * Cross-tenant sharing happens only for these prefixes (see "Why tenancy is designed this way" in
 * the architecture notes): a prompt that starts with one hashes its full blocks under the published
 * salt and the rest under its tenant's salt ({@link BlockHasher#hashChain(byte[], int[], int, int)}).
 * Only full blocks count: a prefix of 40 tokens covers 2 blocks of 16, and a prompt matches when its
 * first 32 tokens equal the prefix's first 32, token for token. Of several matching prefixes the one
 * with the most blocks wins.
 *
 * <p>Storage: HASH {@code <prefix>published:<model>}, field = prefix name, value = JSON
 * {@code {"token_ids":[..],"num_blocks":n,"created_ms":t}}; every change also INCRs
 * {@code <prefix>published-version:<model>} (both in one Lua script). Limits:
 * {@value #MAX_PREFIXES_PER_MODEL} prefixes per model and {@value #MAX_TOKENS} tokens per prefix,
 * enough for long shared system prompts and tool schemas, while a whole model's set stays a few MB
 * (64 x 32 768 ints of JSON) to load when it changes.
 *
 * <p>Matching runs on every hit query, so it reads only memory: each model's prefixes are cached,
 * indexed by the tokens of their first block (longest first within a bucket). A prompt costs one
 * hash of its first 16 tokens, a map lookup and an {@link Arrays#mismatch} per candidate. The cache
 * is refreshed at once after a change made here, and otherwise at most every
 * {@code refreshInterval} (default 1 s) when the model is queried: a GET of the version counter, and
 * an HGETALL only when it moved (another replica published or deleted).
 *
 * <p>Thread-safe. Blocking (synchronous Lettuce commands, at most one GET per model and interval on
 * the query path): call it off event-loop threads.
 */
public final class PublishedPrefixes {

    /** Most prefixes per model. */
    public static final int MAX_PREFIXES_PER_MODEL = 64;

    /** Most tokens per prefix. */
    public static final int MAX_TOKENS = 32_768;

    /** Default longest time a replica may miss another replica's change. */
    public static final Duration DEFAULT_REFRESH_INTERVAL = Duration.ofSeconds(1);

    private static final int MAX_CACHED_MODELS = 1024;

    private static final System.Logger LOG = System.getLogger(PublishedPrefixes.class.getName());

    private static final JsonMapper JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .build();

    // KEYS[1] hash, KEYS[2] version, KEYS[3] models set; ARGV[1] name, ARGV[2] json, ARGV[3] max, ARGV[4] model
    private static final String PUBLISH_SCRIPT = """
            if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0
                and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
              return -1
            end
            redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
            redis.call('SADD', KEYS[3], ARGV[4])
            return redis.call('INCR', KEYS[2])
            """;

    // KEYS[1] hash, KEYS[2] version; ARGV[1] name
    private static final String DELETE_SCRIPT = """
            if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then
              redis.call('INCR', KEYS[2])
              return 1
            end
            return 0
            """;

    /** The stored JSON value. */
    record StoredPrefix(int[] tokenIds, int numBlocks, long createdMs) {
    }

    /** One model's prefixes as of {@code version}, indexed by their first block. */
    private record ModelIndex(String version, long checkedAtNanos, List<PublishedPrefix> prefixes,
                              Map<FirstBlock, PublishedPrefix[]> byFirstBlock) {

        ModelIndex checkedAt(long nanos) {
            return new ModelIndex(version, nanos, prefixes, byFirstBlock);
        }
    }

    /** The tokens of a first block, as a map key. */
    private record FirstBlock(int[] tokens, int hash) {

        static FirstBlock of(int[] tokenIds, int blockSize) {
            int[] t = Arrays.copyOf(tokenIds, blockSize);
            return new FirstBlock(t, Arrays.hashCode(t));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FirstBlock f && hash == f.hash && Arrays.equals(tokens, f.tokens);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private final RedisCommands<String, String> redis;
    private final TenantKeys keys;
    private final int blockSize;
    private final long refreshIntervalNanos;
    private final Map<String, ModelIndex> models = new ConcurrentHashMap<>();

    /** Prefixes under {@code keyPrefix}, blocks of {@link BlockHasher#DEFAULT_BLOCK_SIZE}, refreshed every 1 s. */
    public PublishedPrefixes(StatefulRedisConnection<String, String> connection, String keyPrefix) {
        this(connection, keyPrefix, BlockHasher.DEFAULT_BLOCK_SIZE, DEFAULT_REFRESH_INTERVAL);
    }

    /**
     * @param connection      a Lettuce connection (shared; only synchronous commands are used)
     * @param keyPrefix       the key prefix, {@code "kvshare:"} in production
     * @param blockSize       tokens per KV block, as the engines use (16)
     * @param refreshInterval the longest a change made by another replica goes unseen here
     */
    public PublishedPrefixes(StatefulRedisConnection<String, String> connection, String keyPrefix, int blockSize,
                             Duration refreshInterval) {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(refreshInterval, "refreshInterval");
        if (blockSize < 1) {
            throw new IllegalArgumentException("blockSize must be >= 1, got " + blockSize);
        }
        if (refreshInterval.isNegative()) {
            throw new IllegalArgumentException("refreshInterval must be >= 0, got " + refreshInterval);
        }
        this.redis = connection.sync();
        this.keys = new TenantKeys(keyPrefix);
        this.blockSize = blockSize;
        this.refreshIntervalNanos = refreshInterval.toNanos();
    }

    /** Tokens per block. */
    public int blockSize() {
        return blockSize;
    }

    /**
     * Publishes (or replaces) the prefix {@code name} of {@code model}.
     *
     * @throws IllegalArgumentException if the name or model is invalid, the prefix has fewer than
     *                                  {@code blockSize} or more than {@value #MAX_TOKENS} tokens, a
     *                                  token id is negative, or the model already has
     *                                  {@value #MAX_PREFIXES_PER_MODEL} other prefixes
     */
    public PublishedPrefix publish(String model, String name, int[] tokenIds) {
        TenantIds.requireName("model", model);
        TenantIds.requireIdentifier("published prefix name", name);
        Objects.requireNonNull(tokenIds, "tokenIds");
        if (tokenIds.length < blockSize) {
            throw new IllegalArgumentException("published prefix " + name + " has " + tokenIds.length
                    + " tokens, less than one block of " + blockSize + "; only full blocks are shared");
        }
        if (tokenIds.length > MAX_TOKENS) {
            throw new IllegalArgumentException("published prefix " + name + " has " + tokenIds.length
                    + " tokens, at most " + MAX_TOKENS + " allowed");
        }
        for (int i = 0; i < tokenIds.length; i++) {
            if (tokenIds[i] < 0) {
                throw new IllegalArgumentException("published prefix " + name + " has the negative token id "
                        + tokenIds[i] + " at index " + i);
            }
        }
        PublishedPrefix prefix = new PublishedPrefix(model, name, tokenIds, tokenIds.length / blockSize,
                System.currentTimeMillis());
        String json = JSON.writeValueAsString(
                new StoredPrefix(tokenIds, prefix.numBlocks(), prefix.createdMs()));
        Long version = redis.eval(PUBLISH_SCRIPT, ScriptOutputType.INTEGER,
                new String[] {keys.published(model), keys.publishedVersion(model), keys.publishedModels()},
                name, json, Integer.toString(MAX_PREFIXES_PER_MODEL), model);
        models.remove(model);
        if (version < 0) {
            throw new IllegalArgumentException("model " + model + " already has " + MAX_PREFIXES_PER_MODEL
                    + " published prefixes; delete one before publishing " + name);
        }
        return prefix;
    }

    /** The prefixes of {@code model}, longest first, then by name (as of the last refresh). */
    public List<PublishedPrefix> list(String model) {
        TenantIds.requireName("model", model);
        return indexOf(model).prefixes();
    }

    /** Deletes the prefix; whether it existed. Prompts stop matching it (other replicas within the refresh interval). */
    public boolean delete(String model, String name) {
        TenantIds.requireName("model", model);
        TenantIds.requireIdentifier("published prefix name", name);
        Long deleted = redis.eval(DELETE_SCRIPT, ScriptOutputType.INTEGER,
                new String[] {keys.published(model), keys.publishedVersion(model)}, name);
        models.remove(model);
        return deleted == 1;
    }

    /**
     * The full blocks of the longest published prefix of {@code model} that {@code promptTokenIds}
     * starts with, token for token over those blocks; 0 if none.
     */
    public int numPublishedBlocks(String model, int[] promptTokenIds) {
        Objects.requireNonNull(promptTokenIds, "promptTokenIds");
        TenantIds.requireName("model", model);
        if (promptTokenIds.length < blockSize) {
            return 0;
        }
        ModelIndex index = indexOf(model);
        if (index.byFirstBlock().isEmpty()) {
            return 0;
        }
        PublishedPrefix[] candidates = index.byFirstBlock().get(FirstBlock.of(promptTokenIds, blockSize));
        if (candidates == null) {
            return 0;
        }
        for (PublishedPrefix p : candidates) { // most blocks first
            int numTokens = p.numBlocks() * blockSize;
            if (numTokens <= promptTokenIds.length
                    && Arrays.mismatch(p.tokenIdsUnsafe(), 0, numTokens, promptTokenIds, 0, numTokens) < 0) {
                return p.numBlocks();
            }
        }
        return 0;
    }

    private ModelIndex indexOf(String model) {
        long now = System.nanoTime();
        ModelIndex index = models.get(model);
        if (index != null && now - index.checkedAtNanos() <= refreshIntervalNanos) {
            return index;
        }
        String version = redis.get(keys.publishedVersion(model));
        ModelIndex fresh;
        if (index != null && Objects.equals(index.version(), version)) {
            fresh = index.checkedAt(now);
        } else {
            fresh = load(model, version, now);
        }
        if (models.size() >= MAX_CACHED_MODELS && !models.containsKey(model)) {
            models.clear();
        }
        models.put(model, fresh);
        return fresh;
    }

    private ModelIndex load(String model, String version, long now) {
        Map<String, String> stored = redis.hgetall(keys.published(model));
        List<PublishedPrefix> prefixes = new ArrayList<>(stored.size());
        for (Map.Entry<String, String> e : stored.entrySet()) {
            StoredPrefix s;
            try {
                s = JSON.readValue(e.getValue(), StoredPrefix.class);
            } catch (JacksonException ex) {
                // one bad entry (written by hand, say) must not fail every query of the model
                LOG.log(System.Logger.Level.WARNING, "published prefix {0} of model {1} is not valid JSON,"
                        + " ignored: {2}", e.getKey(), model, ex.getOriginalMessage());
                continue;
            }
            if (s.tokenIds() == null) {
                LOG.log(System.Logger.Level.WARNING, "published prefix {0} of model {1} has no token_ids, ignored",
                        e.getKey(), model);
                continue;
            }
            // num_blocks is recomputed: a prefix stored under another block size still matches correctly
            prefixes.add(new PublishedPrefix(model, e.getKey(), s.tokenIds(), s.tokenIds().length / blockSize,
                    s.createdMs()));
        }
        prefixes.sort(Comparator.comparingInt(PublishedPrefix::numBlocks).reversed()
                .thenComparing(PublishedPrefix::name));
        Map<FirstBlock, List<PublishedPrefix>> buckets = new HashMap<>();
        for (PublishedPrefix p : prefixes) {
            if (p.numBlocks() > 0) {
                buckets.computeIfAbsent(FirstBlock.of(p.tokenIdsUnsafe(), blockSize), k -> new ArrayList<>()).add(p);
            }
        }
        Map<FirstBlock, PublishedPrefix[]> byFirstBlock = new HashMap<>();
        buckets.forEach((k, v) -> byFirstBlock.put(k, v.toArray(PublishedPrefix[]::new)));
        return new ModelIndex(version, now, List.copyOf(prefixes), Map.copyOf(byFirstBlock));
    }

    @Override
    public String toString() {
        return "PublishedPrefixes[" + keys.prefix() + ", blockSize=" + blockSize + ", " + models.size()
                + " models cached]";
    }
}
