package io.kvserve.kvshare.tenant;

import io.kvserve.testsupport.redis.RealRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import java.time.Duration;
import java.util.Arrays;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@RealRedis
class PublishedPrefixesTest {

    static final String MODEL = "meta-llama/Llama-3.2-1B";

    private TenantRedis redis;
    private PublishedPrefixes prefixes;

    @BeforeEach
    void setUp(RedisEndpoint endpoint, TestInfo info) {
        redis = new TenantRedis(endpoint, info.getTestMethod().orElseThrow().getName());
        prefixes = new PublishedPrefixes(redis.connection, redis.prefix);
    }

    @AfterEach
    void tearDown() {
        redis.close();
    }

    /** Token ids {@code from, from + 1, ...}: {@code n} of them. */
    static int[] tokens(int from, int n) {
        return IntStream.range(from, from + n).toArray();
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void numPublishedBlocks_promptStartingWithA40TokenPrefix_isItsTwoFullBlocks() {
        int[] system = tokens(1000, 40);
        PublishedPrefix p = prefixes.publish(MODEL, "system-v1", system);

        assertThat(p.numBlocks()).isEqualTo(2);
        assertThat(p.numTokens()).isEqualTo(40);
        assertThat(prefixes.numPublishedBlocks(MODEL, concat(system, tokens(5, 100)))).isEqualTo(2);
        // only the 32 tokens of the full blocks must match; the partial tail (tokens 32..39) need not
        int[] tailDiffers = concat(tokens(1000, 32), tokens(7, 50));
        assertThat(prefixes.numPublishedBlocks(MODEL, tailDiffers)).isEqualTo(2);
        assertThat(prefixes.numPublishedBlocks(MODEL, tokens(1000, 32))).isEqualTo(2);
    }

    @Test
    void numPublishedBlocks_oneTokenDifferentInsideThePrefix_isZero() {
        int[] system = tokens(1000, 40);
        prefixes.publish(MODEL, "system-v1", system);
        for (int index : new int[] {0, 15, 16, 31}) {
            int[] prompt = concat(system, tokens(5, 100));
            prompt[index] = 7;
            assertThat(prefixes.numPublishedBlocks(MODEL, prompt)).as("token %d differs", index).isZero();
        }
    }

    @Test
    void numPublishedBlocks_promptShorterThanThePrefixBlocks_isZero() {
        prefixes.publish(MODEL, "system-v1", tokens(1000, 48));

        assertThat(prefixes.numPublishedBlocks(MODEL, tokens(1000, 47))).isZero();
        assertThat(prefixes.numPublishedBlocks(MODEL, tokens(1000, 10))).isZero();
        assertThat(prefixes.numPublishedBlocks(MODEL, new int[0])).isZero();
    }

    @Test
    void numPublishedBlocks_otherModelOrNoPrefixes_isZero() {
        prefixes.publish(MODEL, "system-v1", tokens(1000, 32));

        assertThat(prefixes.numPublishedBlocks("other-model", tokens(1000, 64))).isZero();
        assertThat(prefixes.numPublishedBlocks(MODEL, tokens(2000, 64))).isZero();
    }

    @Test
    void numPublishedBlocks_twoNestedPrefixes_longestMatchingWins() {
        prefixes.publish(MODEL, "short", tokens(1000, 16));
        prefixes.publish(MODEL, "long", tokens(1000, 64));
        prefixes.publish(MODEL, "other", concat(tokens(1000, 16), tokens(9000, 80))); // same first block

        assertThat(prefixes.numPublishedBlocks(MODEL, tokens(1000, 100))).isEqualTo(4);
        assertThat(prefixes.numPublishedBlocks(MODEL, concat(tokens(1000, 16), tokens(9000, 90)))).isEqualTo(6);
        // matches "long" only up to block 2: "short" is what remains
        assertThat(prefixes.numPublishedBlocks(MODEL, concat(tokens(1000, 40), tokens(1, 40)))).isEqualTo(1);
        assertThat(prefixes.list(MODEL)).extracting(PublishedPrefix::name).containsExactly("other", "long", "short");
    }

    @Test
    void publish_lessThanOneBlock_refused() {
        assertThatThrownBy(() -> prefixes.publish(MODEL, "tiny", tokens(1, 15)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("published prefix tiny has 15 tokens, less than one block of 16; only full blocks are shared");
        assertThat(prefixes.list(MODEL)).isEmpty();
    }

    @Test
    void publish_badInput_refusedWithPreciseMessages() {
        assertThatThrownBy(() -> prefixes.publish(MODEL, "huge", tokens(1, PublishedPrefixes.MAX_TOKENS + 1)))
                .hasMessage("published prefix huge has 32769 tokens, at most 32768 allowed");
        int[] negative = tokens(1, 20);
        negative[17] = -3;
        assertThatThrownBy(() -> prefixes.publish(MODEL, "neg", negative))
                .hasMessage("published prefix neg has the negative token id -3 at index 17");
        assertThatThrownBy(() -> prefixes.publish(MODEL, "a b", tokens(1, 20)))
                .hasMessageStartingWith("published prefix name 'a b' has ' ' (U+0020) at index 1");
        assertThatThrownBy(() -> prefixes.publish("my model", "n", tokens(1, 20)))
                .hasMessageStartingWith("model 'my model' has ' ' (U+0020) at index 2");
        assertThat(prefixes.publish(MODEL, "max", tokens(1, PublishedPrefixes.MAX_TOKENS)).numBlocks())
                .isEqualTo(2048);
    }

    @Test
    void publish_beyondTheLimitPerModel_refusedButReplacingAllowed() {
        for (int i = 0; i < PublishedPrefixes.MAX_PREFIXES_PER_MODEL; i++) {
            prefixes.publish(MODEL, "p" + i, tokens(100 * i, 16));
        }

        assertThatThrownBy(() -> prefixes.publish(MODEL, "one-more", tokens(1, 16)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("model " + MODEL + " already has 64 published prefixes; delete one before publishing one-more");
        prefixes.publish(MODEL, "p3", tokens(77_000, 32));
        assertThat(prefixes.list(MODEL)).hasSize(64);
        assertThat(prefixes.numPublishedBlocks(MODEL, tokens(77_000, 40))).isEqualTo(2);
        assertThat(prefixes.numPublishedBlocks(MODEL, tokens(300, 40))).as("replaced").isZero();
    }

    @Test
    void publish_storesTheDocumentedJson() {
        PublishedPrefix p = prefixes.publish(MODEL, "system-v1", tokens(1, 17));

        String json = redis.connection.sync().hget(redis.prefix + "published:" + MODEL, "system-v1");
        assertThat(json).isEqualTo("{\"token_ids\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17],"
                + "\"num_blocks\":1,\"created_ms\":" + p.createdMs() + "}");
        assertThat(redis.connection.sync().get(redis.prefix + "published-version:" + MODEL)).isEqualTo("1");
        assertThat(redis.connection.sync().smembers(redis.prefix + "published-models")).containsExactly(MODEL);
        assertThat(prefixes.list(MODEL)).containsExactly(p);
    }

    @Test
    void delete_published_stopsMatching() {
        prefixes.publish(MODEL, "system-v1", tokens(1000, 32));
        assertThat(prefixes.numPublishedBlocks(MODEL, tokens(1000, 40))).isEqualTo(2);

        assertThat(prefixes.delete(MODEL, "system-v1")).isTrue();

        assertThat(prefixes.numPublishedBlocks(MODEL, tokens(1000, 40))).isZero();
        assertThat(prefixes.list(MODEL)).isEmpty();
        assertThat(prefixes.delete(MODEL, "system-v1")).isFalse();
    }

    @Test
    void anotherReplica_seesPublishAndDeleteWithinTheRefreshInterval() throws Exception {
        Duration refresh = Duration.ofMillis(200);
        PublishedPrefixes replica = new PublishedPrefixes(redis.newConnection(), redis.prefix, 16, refresh);
        int[] prompt = tokens(1000, 80);
        assertThat(replica.numPublishedBlocks(MODEL, prompt)).isZero(); // cached: nothing published

        prefixes.publish(MODEL, "system-v1", tokens(1000, 48));
        long published = System.nanoTime();
        while (replica.numPublishedBlocks(MODEL, prompt) == 0) {
            assertThat(Duration.ofNanos(System.nanoTime() - published)).isLessThan(refresh.multipliedBy(3));
            Thread.sleep(10);
        }
        assertThat(replica.numPublishedBlocks(MODEL, prompt)).isEqualTo(3);

        prefixes.delete(MODEL, "system-v1");
        long deleted = System.nanoTime();
        while (replica.numPublishedBlocks(MODEL, prompt) != 0) {
            assertThat(Duration.ofNanos(System.nanoTime() - deleted)).isLessThan(refresh.multipliedBy(3));
            Thread.sleep(10);
        }
    }

    @Test
    void publishedPrefix_tokenIds_areDefensiveCopies() {
        int[] ids = tokens(1000, 32);
        PublishedPrefix p = prefixes.publish(MODEL, "system-v1", ids);
        ids[0] = 7;
        p.tokenIds()[1] = 7;

        assertThat(prefixes.numPublishedBlocks(MODEL, tokens(1000, 32))).isEqualTo(2);
        assertThat(p.tokenIds()).isEqualTo(tokens(1000, 32));
        assertThat(p.toString()).isEqualTo("PublishedPrefix[" + MODEL + "/system-v1, 32 tokens, 2 blocks, createdMs="
                + p.createdMs() + "]");
    }

    @Test
    void numPublishedBlocks_aCorruptEntryInRedis_isIgnoredAndTheRestStillMatch() {
        prefixes.publish(MODEL, "good", tokens(1000, 32));
        redis.connection.sync().hset(redis.prefix + "published:" + MODEL, "bad", "{not json");
        redis.connection.sync().incr(redis.prefix + "published-version:" + MODEL);
        PublishedPrefixes replica = new PublishedPrefixes(redis.newConnection(), redis.prefix);

        assertThat(replica.numPublishedBlocks(MODEL, tokens(1000, 40))).isEqualTo(2);
        assertThat(replica.list(MODEL)).extracting(PublishedPrefix::name).containsExactly("good");
    }
}
