package io.kvserve.common.kvcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BlockHasherTest {

    private static final byte[] SALT_A = salt(1);
    private static final byte[] SALT_B = salt(2);

    /** Bytes 0x00..0x1f, the salt of the golden vectors. */
    private static final byte[] GOLDEN_SALT = goldenSalt();
    /** 11 tokens at block size 4: two full blocks and a partial one; covers negative and max ids. */
    private static final int[] GOLDEN_TOKENS = {100, 101, 102, 103, 104, 105, 106, 107, 108, -1, Integer.MAX_VALUE};

    @Test
    void hashChain_goldenVector_matchesValuesComputedInPython() {
        // produced by the Python snippet in BlockHasher's javadoc (hashlib), an independent implementation
        BlockHasher hasher = new BlockHasher(4);
        assertThat(hasher.root(GOLDEN_SALT).toHex()).isEqualTo("857485076d5813a3ec91c2f50109a1ea");
        assertThat(hasher.hashChain(GOLDEN_SALT, GOLDEN_TOKENS, GOLDEN_TOKENS.length))
                .extracting(BlockHash::toHex)
                .containsExactly("c6bc557190cfae68cf642e780da0b1f0", "9aa6b57a1f7ee53470dbb6f8a8a704d5");
        assertThat(hasher.next(hasher.root(GOLDEN_SALT), new int[] {1, 2, 3, 4}, 0,
                "lora:7".getBytes(StandardCharsets.US_ASCII)).toHex())
                .isEqualTo("c96ee43e01987899d80ec1030dca48e5");
        BlockHasher hasher16 = new BlockHasher();
        BlockHash publishedRoot = hasher16.root(BlockHasher.publishedSalt());
        assertThat(publishedRoot.toHex()).isEqualTo("3c5eb5c9fba78dc37654786e45fdbc06");
        assertThat(hasher16.next(publishedRoot, range(0, 16), 0).toHex()).isEqualTo("2c2382cfcf6963b4a02b1707d6a7c568");
    }

    @Test
    void hashChain_goldenVector_matchesMessageDigestOverTheSpecifiedBytes() throws Exception {
        BlockHasher hasher = new BlockHasher(4);
        byte[] parent = trunc128(sha256(ascii("kvserve/block-hash/v1/root"), le32(GOLDEN_SALT.length), GOLDEN_SALT));
        List<BlockHash> chain = hasher.hashChain(GOLDEN_SALT, GOLDEN_TOKENS, GOLDEN_TOKENS.length);
        for (int b = 0; b < 2; b++) {
            ByteBuffer tokens = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 4; i++) {
                tokens.putInt(GOLDEN_TOKENS[4 * b + i]);
            }
            parent = trunc128(sha256(ascii("kvserve/block-hash/v1/block"), parent, le32(4), tokens.array(), le32(0)));
            assertThat(chain.get(b).toBytes()).as("block %d", b).isEqualTo(parent);
        }
    }

    @Test
    void hashChain_publishedPrefix_goldenVectorFromPython() {
        BlockHasher hasher = new BlockHasher(4);
        int[] tokens = range(100, 112);
        assertThat(hasher.hashChain(GOLDEN_SALT, tokens, 12, 1)).extracting(BlockHash::toHex).containsExactly(
                "329e0776c8f80006aa37755854cdaa06", "a321404d38a1cfee4c514fcb8b13388c", "0925d7fe3428f02cfa5e770d42c4ddcb");
        assertThat(hasher.rekey(BlockHash.fromHex("329e0776c8f80006aa37755854cdaa06"), GOLDEN_SALT).toHex())
                .isEqualTo("62271a9d362151e7a6bfaefc76b4a808");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 16})
    void hashChain_publishedPrefix_sharedAcrossTenantsThenPrivate(int blockSize) {
        BlockHasher hasher = new BlockHasher(blockSize);
        int[] tokens = randomTokens(8 * blockSize, 13);
        List<BlockHash> a = hasher.hashChain(SALT_A, tokens, tokens.length, 3);
        List<BlockHash> b = hasher.hashChain(SALT_B, tokens, tokens.length, 3);
        List<BlockHash> published = hasher.hashChain(BlockHasher.publishedSalt(), tokens, tokens.length);
        assertThat(a.subList(0, 3)).isEqualTo(b.subList(0, 3)).isEqualTo(published.subList(0, 3));
        assertThat(b.subList(3, 8)).doesNotContainAnyElementsOf(a).doesNotContainAnyElementsOf(published);
        assertThat(a.subList(3, 8)).doesNotContainAnyElementsOf(published)
                .doesNotContainAnyElementsOf(hasher.hashChain(SALT_A, tokens, tokens.length));
        assertThat(hasher.hashChain(SALT_A, tokens, tokens.length, 0)).isEqualTo(hasher.hashChain(SALT_A, tokens, tokens.length));
        assertThat(hasher.hashChain(SALT_A, tokens, tokens.length, 8)).isEqualTo(published);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 16})
    void hashChain_sameTokensSameSalt_sameChain(int blockSize) {
        BlockHasher hasher = new BlockHasher(blockSize);
        int[] tokens = randomTokens(200, 7);
        assertThat(hasher.hashChain(SALT_A, tokens, tokens.length))
                .isEqualTo(hasher.hashChain(SALT_A.clone(), tokens.clone(), tokens.length))
                .hasSize(200 / blockSize);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 16})
    void hashChain_differentSalt_everyBlockHashDiffers(int blockSize) {
        BlockHasher hasher = new BlockHasher(blockSize);
        int[] tokens = randomTokens(256, 8);
        List<BlockHash> a = hasher.hashChain(SALT_A, tokens, tokens.length);
        List<BlockHash> b = hasher.hashChain(SALT_B, tokens, tokens.length);
        assertThat(b).doesNotContainAnyElementsOf(a);
        assertThat(hasher.hashChain(BlockHasher.publishedSalt(), tokens, tokens.length))
                .doesNotContainAnyElementsOf(a).doesNotContainAnyElementsOf(b);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 4, 16})
    void hashChain_oneTokenChanged_changesThatBlockAndAllLaterOnly(int blockSize) {
        BlockHasher hasher = new BlockHasher(blockSize);
        int[] tokens = randomTokens(10 * blockSize, 9);
        List<BlockHash> before = hasher.hashChain(SALT_A, tokens, tokens.length);
        int changed = 3 * blockSize + blockSize / 2;
        tokens[changed]++;
        List<BlockHash> after = hasher.hashChain(SALT_A, tokens, tokens.length);
        int changedBlock = changed / blockSize;
        assertThat(after.subList(0, changedBlock)).isEqualTo(before.subList(0, changedBlock));
        for (int b = changedBlock; b < before.size(); b++) {
            assertThat(after.get(b)).as("block %d", b).isNotEqualTo(before.get(b));
        }
    }

    @Test
    void hashChain_partialTrailingBlock_notHashed() {
        BlockHasher hasher = new BlockHasher(16);
        int[] tokens = randomTokens(47, 10);
        List<BlockHash> chain = hasher.hashChain(SALT_A, tokens, 47);
        assertThat(chain).hasSize(2);
        int[] changedTail = tokens.clone();
        changedTail[40] = 5;
        assertThat(hasher.hashChain(SALT_A, changedTail, 47)).isEqualTo(chain);
        assertThat(hasher.hashChain(SALT_A, tokens, 32)).isEqualTo(chain);
        assertThat(hasher.hashChain(SALT_A, tokens, 15)).isEmpty();
    }

    @Test
    void next_appliedIncrementally_equalsHashChain() {
        BlockHasher hasher = new BlockHasher(4);
        int[] tokens = randomTokens(40, 11);
        BlockHash h = hasher.root(SALT_A);
        List<BlockHash> chain = hasher.hashChain(SALT_A, tokens, 40);
        for (int b = 0; b < 10; b++) {
            h = hasher.next(h, tokens, 4 * b);
            assertThat(h).isEqualTo(chain.get(b));
        }
    }

    @Test
    void next_extras_changeTheHash() {
        BlockHasher hasher = new BlockHasher(4);
        BlockHash root = hasher.root(SALT_A);
        int[] tokens = {1, 2, 3, 4};
        assertThat(hasher.next(root, tokens, 0, new byte[0])).isEqualTo(hasher.next(root, tokens, 0));
        assertThat(hasher.next(root, tokens, 0, new byte[] {1})).isNotEqualTo(hasher.next(root, tokens, 0));
    }

    @Test
    void hashChain_differentBlockSizes_neverShareAHash() {
        int[] tokens = randomTokens(64, 12);
        List<BlockHash> by4 = new BlockHasher(4).hashChain(SALT_A, tokens, 64);
        List<BlockHash> by8 = new BlockHasher(8).hashChain(SALT_A, tokens, 64);
        assertThat(by8).doesNotContainAnyElementsOf(by4);
    }

    @Test
    void root_shortSalt_rejected() {
        assertThatThrownBy(() -> new BlockHasher().root(new byte[0]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 16 bytes");
    }

    @Test
    void next_shortBlock_rejected() {
        BlockHasher hasher = new BlockHasher(4);
        assertThatThrownBy(() -> hasher.next(hasher.root(SALT_A), new int[] {1, 2, 3, 4, 5}, 2))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void blockHash_bytesAndHex_roundTrip() {
        BlockHash h = new BlockHasher().root(SALT_A);
        assertThat(BlockHash.fromBytes(h.toBytes(), 0)).isEqualTo(h);
        assertThat(BlockHash.fromHex(h.toHex())).isEqualTo(h);
        assertThat(h.toHex()).isEqualTo(java.util.HexFormat.of().formatHex(h.toBytes()));
    }

    @Test
    void publishedSalt_isTheDocumentedConstant() {
        assertThat(BlockHasher.publishedSalt()).isEqualTo(ascii("kvserve/published-prefixes/v1"));
    }

    private static byte[] salt(int seed) {
        byte[] s = new byte[32];
        new Random(seed).nextBytes(s);
        return s;
    }

    private static byte[] goldenSalt() {
        byte[] s = new byte[32];
        for (int i = 0; i < 32; i++) {
            s[i] = (byte) i;
        }
        return s;
    }

    private static int[] range(int from, int to) {
        int[] r = new int[to - from];
        Arrays.setAll(r, i -> from + i);
        return r;
    }

    private static int[] randomTokens(int n, long seed) {
        return new Random(seed).ints(n, 0, 128_256).toArray();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    private static byte[] sha256(byte[]... parts) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (byte[] p : parts) {
            md.update(p);
        }
        return md.digest();
    }

    private static byte[] trunc128(byte[] digest) {
        return Arrays.copyOf(digest, 16);
    }
}
