package io.kvserve.gateway.tenant;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * API key secrets: generation, hashing and the masked forms that may appear in messages.
 *
 * <p>A key is {@value #PREFIX} followed by {@value #SECRET_LENGTH} base62 characters drawn uniformly
 * from {@link SecureRandom} (43 x log2(62) = 256.0 bits). Only its SHA-256 is stored: a fast hash is
 * the right one for a high-entropy secret (no dictionary to try; GitHub and Stripe store tokens the same
 * way), and it lets the gateway find the key with one lookup per request.
 */
public final class ApiKeys {

    public static final String PREFIX = "sk-kvs-";
    public static final int SECRET_LENGTH = 43;
    /** Length of a whole key. */
    public static final int KEY_LENGTH = PREFIX.length() + SECRET_LENGTH;
    /** Characters of the key kept as its display hint, e.g. {@code sk-kvs-AbC}. */
    public static final int HINT_LENGTH = 10;
    public static final String KEY_ID_PREFIX = "key_";

    private static final String BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static final SecureRandom RANDOM = new SecureRandom();

    private ApiKeys() {
    }

    /** A new key secret. */
    public static String newKey() {
        return PREFIX + base62(SECRET_LENGTH);
    }

    /** A new public key id, {@code key_} and 16 base62 characters (95 bits: unique, not secret). */
    public static String newKeyId() {
        return KEY_ID_PREFIX + base62(16);
    }

    /** A random id for a lease (24 base62 characters). */
    public static String newLeaseId() {
        return base62(24);
    }

    /** SHA-256 of the key's UTF-8 bytes, 64 lower-case hex digits: what Redis stores. */
    public static String sha256Hex(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** The display hint of a key. */
    public static String hint(String key) {
        return key.substring(0, Math.min(HINT_LENGTH, key.length()));
    }

    /**
     * The key as an error message may show it, OpenAI style: {@code sk-kvs-Ab***...xyz}. Text too short
     * to be a key (perhaps a password pasted by mistake) is shown as {@code ***} only.
     */
    public static String masked(String key) {
        if (key.length() < 24) {
            return "***";
        }
        return printable(key.substring(0, 9)) + "***..." + printable(key.substring(key.length() - 3));
    }

    /** True when {@code key} has the shape of a key this gateway issues (no Redis lookup needed otherwise). */
    public static boolean wellFormed(String key) {
        if (key.length() != KEY_LENGTH || !key.startsWith(PREFIX)) {
            return false;
        }
        for (int i = PREFIX.length(); i < key.length(); i++) {
            if (BASE62.indexOf(key.charAt(i)) < 0) {
                return false;
            }
        }
        return true;
    }

    private static String base62(int length) {
        StringBuilder b = new StringBuilder(length);
        byte[] buffer = new byte[64];
        while (b.length() < length) {
            RANDOM.nextBytes(buffer);
            for (int i = 0; i < buffer.length && b.length() < length; i++) {
                int v = buffer[i] & 0x3F; // 0..63; 62 and 63 are rejected, so the rest is uniform
                if (v < 62) {
                    b.append(BASE62.charAt(v));
                }
            }
        }
        return b.toString();
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(c < 0x21 || c > 0x7E ? '?' : c);
        }
        return b.toString();
    }
}
