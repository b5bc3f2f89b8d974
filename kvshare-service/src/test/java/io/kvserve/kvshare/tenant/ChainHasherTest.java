package io.kvserve.kvshare.tenant;

import io.kvserve.common.kvcache.BlockHash;
import io.kvserve.common.kvcache.BlockHasher;
import io.kvserve.testsupport.redis.RealRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

import static io.kvserve.kvshare.tenant.PublishedPrefixesTest.MODEL;
import static io.kvserve.kvshare.tenant.PublishedPrefixesTest.concat;
import static io.kvserve.kvshare.tenant.PublishedPrefixesTest.tokens;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@RealRedis
class ChainHasherTest {

    private TenantRedis redis;
    private TenantSalts salts;
    private PublishedPrefixes prefixes;
    private ChainHasher hasher;

    @BeforeEach
    void setUp(RedisEndpoint endpoint, TestInfo info) {
        redis = new TenantRedis(endpoint, info.getTestMethod().orElseThrow().getName());
        salts = new TenantSalts(redis.connection, redis.prefix);
        prefixes = new PublishedPrefixes(redis.connection, redis.prefix);
        hasher = new ChainHasher(salts, prefixes);
    }

    @AfterEach
    void tearDown() {
        redis.close();
    }

    @Test
    void hash_twoTenantsSamePrompt_shareNoHashAtAnyIndex() {
        int[] prompt = tokens(1000, 16 * 20 + 5);

        HashedPrompt a = hasher.hash(MODEL, "acme", prompt);
        HashedPrompt b = hasher.hash(MODEL, "globex", prompt);

        assertThat(a.numBlocks()).isEqualTo(20);
        assertThat(a.numTokens()).isEqualTo(16 * 20 + 5);
        assertThat(a.numPublishedBlocks()).isZero();
        assertThat(b.numBlocks()).isEqualTo(20);
        Set<BlockHash> shared = new HashSet<>(a.chain());
        shared.retainAll(b.chain());
        assertThat(shared).isEmpty();
        for (int i = 0; i < 20; i++) {
            assertThat(a.chain().get(i)).as("block %d", i).isNotEqualTo(b.chain().get(i));
        }
    }

    @Test
    void hash_sameTenantTwiceAndOnAnotherReplica_sameChain() {
        int[] prompt = tokens(1000, 100);
        HashedPrompt first = hasher.hash(MODEL, "acme", prompt);

        ChainHasher replica = new ChainHasher(new TenantSalts(redis.newConnection(), redis.prefix),
                new PublishedPrefixes(redis.newConnection(), redis.prefix));

        assertThat(hasher.hash(MODEL, "acme", prompt)).isEqualTo(first);
        assertThat(replica.hash(MODEL, "acme", prompt)).isEqualTo(first);
    }

    @Test
    void hash_isWhatTheEngineComputesFromTheTenantSalt() {
        int[] prompt = tokens(3, 70);

        HashedPrompt hashed = hasher.hash(MODEL, "acme", prompt);

        byte[] salt = salts.existingSalt("acme").orElseThrow();
        assertThat(hashed.chain()).isEqualTo(new BlockHasher(16).hashChain(salt, prompt, prompt.length));
    }

    @Test
    void hash_promptsStartingWithAPublishedPrefix_shareItsBlocksAndDivergeAfter() {
        int[] system = tokens(1000, 40); // 2 full blocks
        prefixes.publish(MODEL, "system-v1", system);
        int[] prompt = concat(system, tokens(5, 60)); // 100 tokens, 6 blocks

        HashedPrompt a = hasher.hash(MODEL, "acme", prompt);
        HashedPrompt b = hasher.hash(MODEL, "globex", prompt);

        assertThat(a.numPublishedBlocks()).isEqualTo(2);
        assertThat(b.numPublishedBlocks()).isEqualTo(2);
        assertThat(a.chain().subList(0, 2)).isEqualTo(b.chain().subList(0, 2));
        assertThat(a.chain().subList(0, 2))
                .isEqualTo(new BlockHasher(16).hashChain(BlockHasher.publishedSalt(), prompt, 32));
        for (int i = 2; i < 6; i++) {
            assertThat(a.chain().get(i)).as("block %d", i).isNotEqualTo(b.chain().get(i));
        }
        Set<BlockHash> privateA = new HashSet<>(a.chain().subList(2, 6));
        privateA.retainAll(b.chain());
        assertThat(privateA).isEmpty();
        byte[] saltA = salts.existingSalt("acme").orElseThrow();
        assertThat(a.chain()).isEqualTo(new BlockHasher(16).hashChain(saltA, prompt, prompt.length, 2));
    }

    @Test
    void hashWithSalt_tenantsOwnSalt_sameAsHash_publishedBlocksIncluded() {
        prefixes.publish(MODEL, "system-v1", tokens(1000, 40)); // 2 full blocks
        int[] published = concat(tokens(1000, 40), tokens(5, 60));
        int[] plain = tokens(7, 50);

        byte[] acmeSalt = salts.saltOf("acme");

        assertThat(hasher.hashWithSalt(MODEL, acmeSalt, published)).isEqualTo(hasher.hash(MODEL, "acme", published));
        assertThat(hasher.hashWithSalt(MODEL, acmeSalt, published).numPublishedBlocks()).isEqualTo(2);
        assertThat(hasher.hashWithSalt(MODEL, acmeSalt, plain)).isEqualTo(hasher.hash(MODEL, "acme", plain));
        assertThat(hasher.hashWithSalt(MODEL, salts.saltOf("globex"), plain).chain())
                .as("another salt, another chain").doesNotContainAnyElementsOf(hasher.hash(MODEL, "acme", plain).chain());
    }

    @Test
    void hash_oneTokenDifferentInsideThePublishedPrefix_fullyTenantSalted() {
        int[] system = tokens(1000, 40);
        prefixes.publish(MODEL, "system-v1", system);
        int[] prompt = concat(system, tokens(5, 60));
        prompt[20] = 4;

        HashedPrompt a = hasher.hash(MODEL, "acme", prompt);
        HashedPrompt b = hasher.hash(MODEL, "globex", prompt);

        assertThat(a.numPublishedBlocks()).isZero();
        Set<BlockHash> shared = new HashSet<>(a.chain());
        shared.retainAll(b.chain());
        assertThat(shared).isEmpty();
    }

    @Test
    void hash_invalidTenantId_refused() {
        assertThatThrownBy(() -> hasher.hash(MODEL, "bad tenant", tokens(1, 32)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at index 3");
    }

    @Test
    void parseHexChain_validHashesEitherCase_roundTrip() {
        HashedPrompt hashed = hasher.hash(MODEL, "acme", tokens(1, 48));
        List<String> hex = hashed.chain().stream().map(BlockHash::toHex).toList();
        List<String> upper = hex.stream().map(String::toUpperCase).toList();

        assertThat(ChainHasher.parseHexChain(hex)).isEqualTo(hashed.chain());
        assertThat(ChainHasher.parseHexChain(upper)).isEqualTo(hashed.chain());
        assertThat(ChainHasher.parseHexChain(List.of())).isEmpty();
    }

    @Test
    void parseHexChain_wrongLength_messageNamesTheIndex() {
        String ok = "0123456789abcdef0123456789abcdef";
        assertThatThrownBy(() -> ChainHasher.parseHexChain(List.of(ok, ok, ok.substring(1))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("block hash [2] has 31 characters, a block hash is 32 hex digits");
        assertThatThrownBy(() -> ChainHasher.parseHexChain(List.of(ok + "0")))
                .hasMessage("block hash [0] has 33 characters, a block hash is 32 hex digits");
        assertThatThrownBy(() -> ChainHasher.parseHexChain(List.of(ok, "")))
                .hasMessage("block hash [1] has 0 characters, a block hash is 32 hex digits");
    }

    @Test
    void parseHexChain_nonHex_messageNamesTheIndexAndPosition() {
        String ok = "0123456789abcdef0123456789abcdef";
        assertThatThrownBy(() -> ChainHasher.parseHexChain(List.of(ok, "0123456789abcdeg0123456789abcdef")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("block hash [1] has the non-hex character 'g' (U+0067) at position 15");
        assertThatThrownBy(() -> ChainHasher.parseHexChain(List.of("0123456789abcdef0123456789abcde\u0663")))
                .hasMessage("block hash [0] has the non-hex character '\u0663' (U+0663) at position 31");
        assertThatThrownBy(() -> ChainHasher.parseHexChain(Arrays.asList(ok, ok, ok, null)))
                .hasMessage("block hash [3] is null");
    }

    @Test
    void saltNeverAppearsInToStringsOrExceptionMessages() {
        HashedPrompt hashed = hasher.hash(MODEL, "acme", tokens(1, 48));
        byte[] salt = salts.saltOf("acme");
        String base64 = Base64.getEncoder().encodeToString(salt);
        String hex = HexFormat.of().formatHex(salt);

        List<String> texts = new java.util.ArrayList<>(List.of(hashed.toString(), hasher.toString(),
                salts.toString(), prefixes.toString()));
        for (Runnable bad : List.<Runnable>of(
                () -> hasher.hash(MODEL, "acme", null),
                () -> hasher.hash("bad model", "acme", tokens(1, 48)),
                () -> salts.saltOf("acme!"),
                () -> ChainHasher.parseHexChain(List.of(hex)),
                () -> ChainHasher.parseHexChain(List.of(base64)))) {
            try {
                bad.run();
                throw new AssertionError("expected a failure");
            } catch (RuntimeException e) {
                texts.add(String.valueOf(e.getMessage()));
                texts.add(e.toString());
            }
        }
        assertThat(texts).allSatisfy(t -> assertThat(t).doesNotContain(base64).doesNotContain(hex));
    }
}
