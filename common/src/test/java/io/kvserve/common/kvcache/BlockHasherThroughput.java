package io.kvserve.common.kvcache;

import java.util.List;
import java.util.Random;

/**
 * A quick loop (not JMH, not a test) timing {@link BlockHasher#hashChain} on a 4096-token prompt at
 * block size 16. Run after {@code ./mvnw -o -pl common test-compile}:
 * <pre>
 *   java -cp common/target/classes:common/target/test-classes io.kvserve.common.kvcache.BlockHasherThroughput
 * </pre>
 * MB/s counts the token bytes hashed (4 per token), not the framing.
 */
public final class BlockHasherThroughput {

    public static void main(String[] args) {
        int numTokens = 4096;
        int[] tokens = new Random(1).ints(numTokens, 0, 128_256).toArray();
        byte[] salt = new byte[32];
        new Random(2).nextBytes(salt);
        BlockHasher hasher = new BlockHasher();
        long sink = 0;
        for (int i = 0; i < 20_000; i++) { // warm-up: let C2 compile and the SHA intrinsic kick in
            sink += hasher.hashChain(salt, tokens, numTokens).getLast().lo();
        }
        for (int round = 0; round < 5; round++) {
            int iterations = 20_000;
            long start = System.nanoTime();
            for (int i = 0; i < iterations; i++) {
                List<BlockHash> chain = hasher.hashChain(salt, tokens, numTokens);
                sink += chain.getLast().lo();
            }
            long elapsedNanos = System.nanoTime() - start;
            double microsPerPrompt = elapsedNanos / 1e3 / iterations;
            double megabytesPerSecond = (4.0 * numTokens * iterations) / (elapsedNanos / 1e9) / 1e6;
            System.out.printf("round %d: %.1f us per 4096-token chain (256 blocks), %.0f MB/s of token bytes%n",
                    round, microsPerPrompt, megabytesPerSecond);
        }
        System.out.println("(sink " + sink + ")");
    }
}
