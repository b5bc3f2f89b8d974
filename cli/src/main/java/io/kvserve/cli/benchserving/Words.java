package io.kvserve.cli.benchserving;

import java.util.SplittableRandom;

/**
 * Deterministic filler text for the synthetic workloads: words from {@link RandomWorkload#WORDS}, each
 * about one token, so {@code n} words are about {@code n} tokens. Every piece of text is drawn from its
 * own stream, split from the seed by a purpose and up to two numbers, so a piece (tenant 3's system
 * prompt, conversation 7's second answer) does not depend on which other pieces were drawn before it.
 */
final class Words {

    private Words() {
    }

    /** The stream of one piece of text: {@code purpose} names it, {@code a} and {@code b} number it. */
    static SplittableRandom stream(long seed, String purpose, long a, long b) {
        long h = seed * 0x9E3779B97F4A7C15L;
        h = (h ^ purpose.hashCode()) * 0xBF58476D1CE4E5B9L;
        h = (h ^ a) * 0x94D049BB133111EBL;
        h = (h ^ (b + 0x632BE59BD9B4E019L)) * 0x9E3779B97F4A7C15L;
        return new SplittableRandom(h ^ (h >>> 31));
    }

    /** {@code numWords} words separated by single spaces. */
    static String text(SplittableRandom random, int numWords) {
        StringBuilder text = new StringBuilder(numWords * 7);
        for (int i = 0; i < numWords; i++) {
            if (i > 0) {
                text.append(' ');
            }
            text.append(RandomWorkload.WORDS[random.nextInt(RandomWorkload.WORDS.length)]);
        }
        return text.toString();
    }

    static String text(long seed, String purpose, long a, long b, int numWords) {
        return text(stream(seed, purpose, a, b), numWords);
    }

    /** {@code tenant-1} .. {@code tenant-N}. */
    static java.util.List<String> tenantNames(int numTenants) {
        java.util.List<String> names = new java.util.ArrayList<>(numTenants);
        for (int t = 1; t <= numTenants; t++) {
            names.add("tenant-" + t);
        }
        return java.util.List.copyOf(names);
    }
}
