package io.kvserve.common.kvcache;

import java.util.HexFormat;

/**
 * The 128-bit hash of one full KV block, chained over all blocks before it (see {@link BlockHasher}
 * for the exact byte encoding).
 *
 * <p>The canonical form is 16 bytes: the first 16 bytes of a SHA-256 digest, in digest order.
 * {@code hi} is those bytes 0..7 read big-endian and {@code lo} bytes 8..15 read big-endian, so
 * {@link #toHex()} is simply the lowercase hex of the 16 bytes, which is what every other language
 * prints for {@code sha256(...).digest()[:16].hex()}.
 *
 * <p>Why 128 bits: the kvshare index holds the hashes of every cached block of every instance of
 * every tenant in one keyspace, and a collision silently serves another prompt's KV (a wrong answer,
 * possibly another tenant's data). With n distinct blocks alive the birthday bound is about
 * n²/2^(b+1): for 64 bits and n = 10^9 (a large cluster over its retention window) that is ~2.7%,
 * not acceptable; for 128 bits it is ~1.5·10^-21. 128 bits is also two longs, so it stays a cheap
 * map key in Java and 16 bytes in Redis, where 256 bits would double the index for no practical
 * gain.
 */
public record BlockHash(long hi, long lo) {

    /** Bytes in the canonical form. */
    public static final int NUM_BYTES = 16;

    /** The hash whose canonical form is {@code bytes[offset .. offset + 16)}. */
    public static BlockHash fromBytes(byte[] bytes, int offset) {
        if (offset < 0 || bytes.length - offset < NUM_BYTES) {
            throw new IllegalArgumentException(
                    "need 16 bytes at offset " + offset + ", array has " + bytes.length);
        }
        return new BlockHash(readLongBigEndian(bytes, offset), readLongBigEndian(bytes, offset + 8));
    }

    /** The hash whose canonical form is the given 32 lowercase or uppercase hex digits. */
    public static BlockHash fromHex(String hex) {
        if (hex.length() != 2 * NUM_BYTES) {
            throw new IllegalArgumentException("a block hash is 32 hex digits, got " + hex.length() + ": " + hex);
        }
        return fromBytes(HexFormat.of().parseHex(hex), 0);
    }

    /** The canonical 16 bytes (a fresh array). */
    public byte[] toBytes() {
        byte[] out = new byte[NUM_BYTES];
        writeTo(out, 0);
        return out;
    }

    /** Writes the canonical 16 bytes to {@code out[offset .. offset + 16)}. */
    public void writeTo(byte[] out, int offset) {
        writeLongBigEndian(out, offset, hi);
        writeLongBigEndian(out, offset + 8, lo);
    }

    /** The canonical 16 bytes as 32 lowercase hex digits. */
    public String toHex() {
        return HexFormat.of().toHexDigits(hi) + HexFormat.of().toHexDigits(lo);
    }

    @Override
    public String toString() {
        return toHex();
    }

    private static long readLongBigEndian(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[off + i] & 0xFFL);
        }
        return v;
    }

    private static void writeLongBigEndian(byte[] b, int off, long v) {
        for (int i = 7; i >= 0; i--) {
            b[off + i] = (byte) v;
            v >>>= 8;
        }
    }
}
