package io.kvserve.common.kvcache;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Objects;

/**
 * The tenant-salted block-hash chain that names cached KV blocks across kvserve: the engine's
 * prefix cache, the scheduler's hit prediction and the kvshare index all compute exactly these
 * bytes, so this class is the format's specification as well as its Java implementation.
 *
 * <h2>Design</h2>
 * Automatic prefix caching [1] names each <em>full</em> block of {@code blockSize} tokens by a hash
 * of its tokens and of the hash of the block before it, {@code h_b = H(h_{b-1}, tokens_b, extras_b)}.
 * Because of the chain, equal hashes mean equal whole prefixes, so a block can be reused only where
 * every token before it matches too, which is what attention's causal KV requires. A partial
 * trailing block is never hashed: its KV is still being written.
 *
 * <p>The chain starts from a secret per-tenant salt, {@code h_{-1} = H(salt)}, the way vLLM's
 * {@code cache_salt} [2] does inside one engine. Two tenants sending the same tokens therefore get
 * unrelated chains from block 0 on: there is no hit, no scheduling-order advantage and no
 * time-to-first-token difference through which one tenant can probe another's prompt [3][4]. Sharing
 * across tenants happens only under the well-known {@link #publishedSalt() published salt}, for
 * prefixes an operator publishes as shared; anybody can compute those chains, which is the point.
 * A tenant prompt that starts with a published prefix must not continue in the published namespace,
 * or its private tail would be probeable by everyone: {@link #hashChain(byte[], int[], int, int)}
 * hashes the published blocks under the published salt and then <em>re-keys</em> the chain with the
 * tenant salt, so the tail's hashes are as private as a plain tenant chain's while still implying
 * the whole prefix before them.
 *
 * <p>SHA-256 truncated to 128 bits rather than a keyed fast hash (xxh3, SipHash): it exists in every
 * language's standard library, so kvshare and tools in other languages reproduce it without a
 * dependency; it is collision-resistant against a tenant who crafts prompts to collide with another
 * prefix (vLLM moved from Python's {@code hash} to SHA-256 for this reason [5]); and with the JDK's
 * SHA-256 intrinsics it hashes a 4096-token prompt (256 blocks) in about 38 microseconds, about
 * 420 MB/s of token bytes, far below the cost of a prefill step (JDK 25 on the 2 shared cores of the
 * dev container; {@code BlockHasherThroughput} in the tests, command in its javadoc). 128 bits: see
 * {@link BlockHash}.
 *
 * <h2>Byte encoding, version 1</h2>
 * All integers little-endian; {@code ||} is concatenation; {@code trunc128(x)} is the first 16
 * bytes of {@code x}; tags are ASCII without terminator.
 * <pre>
 *   root(salt)         = trunc128(SHA-256( "kvserve/block-hash/v1/root"
 *                                        || uint32(len(salt)) || salt ))
 *   block(parent, t, e) = trunc128(SHA-256( "kvserve/block-hash/v1/block"
 *                                        || parent                  (16 bytes, canonical form)
 *                                        || uint32(blockSize)
 *                                        || int32(t[0]) || ... || int32(t[blockSize-1])
 *                                        || uint32(len(e)) || e ))
 *   rekey(parent, salt) = trunc128(SHA-256( "kvserve/block-hash/v1/rekey"
 *                                        || parent || uint32(len(salt)) || salt ))
 *   h_{-1} = root(salt);   h_b = block(h_{b-1}, tokens[b*blockSize .. (b+1)*blockSize), extras_b)
 *   with p &gt; 0 published blocks: h_{-1} = root(publishedSalt) and, for block p only, the parent is
 *   rekey(h_{p-1}, tenantSalt) instead of h_{p-1}
 * </pre>
 * The distinct tags keep a root from ever equalling a block hash; the block size is hashed so that
 * chains of different block sizes never match; extras (LoRA id, multimodal input hashes, ...) are
 * empty unless a caller defines them, and are length-prefixed so they cannot be confused with
 * tokens. Salts must be at least {@value #MIN_SALT_BYTES} bytes, which catches an unset salt (a
 * tenant salt should be 32 random bytes). Golden values for a fixed input are in
 * {@code BlockHasherTest}, computed there by an independent path; in Python:
 * <pre>
 *   import hashlib, struct
 *   def root(salt): return hashlib.sha256(b"kvserve/block-hash/v1/root"
 *                        + struct.pack("&lt;I", len(salt)) + salt).digest()[:16]
 *   def block(parent, toks, extras=b""): return hashlib.sha256(b"kvserve/block-hash/v1/block"
 *                        + parent + struct.pack("&lt;I", len(toks)) + struct.pack(f"&lt;{len(toks)}i", *toks)
 *                        + struct.pack("&lt;I", len(extras)) + extras).digest()[:16]
 *   def rekey(parent, salt): return hashlib.sha256(b"kvserve/block-hash/v1/rekey"
 *                        + parent + struct.pack("&lt;I", len(salt)) + salt).digest()[:16]
 * </pre>
 *
 * <p>Instances are immutable and thread-safe (each call uses its own {@link MessageDigest}).
 *
 * <h2>References</h2>
 * <ol>
 *   <li>vLLM, Automatic Prefix Caching design, docs/design/prefix_caching.md; {@code hash_block_tokens}
 *       in vllm/v1/core/kv_cache_utils.py.</li>
 *   <li>vLLM, per-request {@code cache_salt} mixed into the first block's hash
 *       ({@code Request.cache_salt}, vllm/v1/core/kv_cache_utils.py).</li>
 *   <li>Wu et al., "I Know What You Asked: Prompt Leakage via KV-Cache Sharing in Multi-Tenant LLM
 *       Serving", NDSS 2025.</li>
 *   <li>Gu et al., "Auditing Prompt Caching in Language Model APIs", 2025.</li>
 *   <li>vLLM, {@code --prefix-caching-hash-algo sha256} (a collision-resistant block hash for
 *       multi-user deployments).</li>
 * </ol>
 */
public final class BlockHasher {

    /** The default tokens per block, as in vLLM and the kvshare index. */
    public static final int DEFAULT_BLOCK_SIZE = 16;

    /** The shortest salt accepted, in bytes. */
    public static final int MIN_SALT_BYTES = 16;

    private static final byte[] ROOT_TAG = "kvserve/block-hash/v1/root".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BLOCK_TAG = "kvserve/block-hash/v1/block".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] REKEY_TAG = "kvserve/block-hash/v1/rekey".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PUBLISHED_SALT =
            "kvserve/published-prefixes/v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] NO_EXTRAS = new byte[0];

    private final int blockSize;

    /** A hasher for blocks of {@link #DEFAULT_BLOCK_SIZE} tokens. */
    public BlockHasher() {
        this(DEFAULT_BLOCK_SIZE);
    }

    /** A hasher for blocks of {@code blockSize} tokens. */
    public BlockHasher(int blockSize) {
        if (blockSize < 1) {
            throw new IllegalArgumentException("blockSize must be >= 1, got " + blockSize);
        }
        this.blockSize = blockSize;
    }

    /** Tokens per block. */
    public int blockSize() {
        return blockSize;
    }

    /**
     * The salt of the shared ("published") namespace: the 29 ASCII bytes
     * {@code "kvserve/published-prefixes/v1"}. Chains under it are identical for every tenant, so
     * use it only for prefixes an operator has published as shared. A fresh copy on each call.
     */
    public static byte[] publishedSalt() {
        return PUBLISHED_SALT.clone();
    }

    /** {@code h_{-1}}: the parent of block 0 in the namespace of {@code salt}. */
    public BlockHash root(byte[] salt) {
        Objects.requireNonNull(salt, "salt");
        if (salt.length < MIN_SALT_BYTES) {
            throw new IllegalArgumentException("a salt must be at least " + MIN_SALT_BYTES
                    + " bytes (a tenant salt should be 32 random bytes), got " + salt.length);
        }
        MessageDigest sha = sha256();
        sha.update(ROOT_TAG);
        sha.update(uint32(salt.length));
        sha.update(salt);
        return BlockHash.fromBytes(sha.digest(), 0);
    }

    /**
     * The hashes of the full blocks of {@code tokenIds[0 .. numTokens)} under {@code salt}, block 0
     * first; {@code numTokens / blockSize} of them (a partial trailing block is not hashed).
     */
    public List<BlockHash> hashChain(byte[] salt, int[] tokenIds, int numTokens) {
        Objects.requireNonNull(tokenIds, "tokenIds");
        if (numTokens < 0 || numTokens > tokenIds.length) {
            throw new IllegalArgumentException(
                    "numTokens " + numTokens + " outside 0.." + tokenIds.length);
        }
        BlockHash parent = root(salt);
        int numBlocks = numTokens / blockSize;
        BlockHash[] chain = new BlockHash[numBlocks];
        MessageDigest sha = sha256();
        byte[] scratch = new byte[Math.max(BlockHash.NUM_BYTES, 4 * blockSize)];
        for (int b = 0; b < numBlocks; b++) {
            parent = next(sha, scratch, parent, tokenIds, b * blockSize, NO_EXTRAS);
            chain[b] = parent;
        }
        return List.of(chain);
    }

    /**
     * The chain of a tenant prompt whose first {@code numPublishedBlocks} blocks are an
     * operator-published prefix: those blocks are hashed under {@link #publishedSalt()} (so they hit
     * across tenants), the rest under {@code tenantSalt} after {@link #rekey}. With
     * {@code numPublishedBlocks == 0} this is {@link #hashChain(byte[], int[], int)}.
     */
    public List<BlockHash> hashChain(byte[] tenantSalt, int[] tokenIds, int numTokens, int numPublishedBlocks) {
        int numBlocks = numTokens / blockSize;
        if (numPublishedBlocks < 0 || numPublishedBlocks > numBlocks) {
            throw new IllegalArgumentException("numPublishedBlocks " + numPublishedBlocks + " outside 0.."
                    + numBlocks + " (the full blocks of " + numTokens + " tokens)");
        }
        if (numPublishedBlocks == 0) {
            return hashChain(tenantSalt, tokenIds, numTokens);
        }
        root(tenantSalt); // the salt checks, even when no private block follows
        List<BlockHash> published = hashChain(PUBLISHED_SALT, tokenIds, numPublishedBlocks * blockSize);
        BlockHash[] chain = published.toArray(new BlockHash[numBlocks]);
        if (numBlocks > numPublishedBlocks) {
            BlockHash parent = rekey(published.getLast(), tenantSalt);
            MessageDigest sha = sha256();
            byte[] scratch = new byte[Math.max(BlockHash.NUM_BYTES, 4 * blockSize)];
            for (int b = numPublishedBlocks; b < numBlocks; b++) {
                parent = next(sha, scratch, parent, tokenIds, b * blockSize, NO_EXTRAS);
                chain[b] = parent;
            }
        }
        return List.of(chain);
    }

    /**
     * The parent to continue a chain from when it leaves one namespace for the one of {@code salt}
     * (a published prefix followed by a tenant's private blocks).
     */
    public BlockHash rekey(BlockHash parent, byte[] salt) {
        Objects.requireNonNull(parent, "parent");
        root(salt); // the same salt checks
        MessageDigest sha = sha256();
        sha.update(REKEY_TAG);
        sha.update(parent.toBytes());
        sha.update(uint32(salt.length));
        sha.update(salt);
        return BlockHash.fromBytes(sha.digest(), 0);
    }

    /** The hash of the block {@code tokens[offset .. offset + blockSize)} after {@code parent}, no extras. */
    public BlockHash next(BlockHash parent, int[] tokens, int offset) {
        return next(parent, tokens, offset, NO_EXTRAS);
    }

    /** The hash of the block {@code tokens[offset .. offset + blockSize)} after {@code parent}. */
    public BlockHash next(BlockHash parent, int[] tokens, int offset, byte[] extras) {
        Objects.requireNonNull(parent, "parent");
        Objects.requireNonNull(extras, "extras");
        if (offset < 0 || tokens.length - offset < blockSize) {
            throw new IllegalArgumentException("a full block needs " + blockSize + " tokens at offset "
                    + offset + ", array has " + tokens.length);
        }
        return next(sha256(), new byte[Math.max(BlockHash.NUM_BYTES, 4 * blockSize)], parent, tokens, offset, extras);
    }

    private BlockHash next(MessageDigest sha, byte[] scratch, BlockHash parent, int[] tokens, int offset,
                           byte[] extras) {
        sha.update(BLOCK_TAG);
        parent.writeTo(scratch, 0);
        sha.update(scratch, 0, BlockHash.NUM_BYTES);
        sha.update(uint32(blockSize));
        for (int i = 0; i < blockSize; i++) {
            int t = tokens[offset + i];
            int p = 4 * i;
            scratch[p] = (byte) t;
            scratch[p + 1] = (byte) (t >>> 8);
            scratch[p + 2] = (byte) (t >>> 16);
            scratch[p + 3] = (byte) (t >>> 24);
        }
        sha.update(scratch, 0, 4 * blockSize);
        sha.update(uint32(extras.length));
        sha.update(extras);
        return BlockHash.fromBytes(sha.digest(), 0);
    }

    private static byte[] uint32(int v) {
        return new byte[] {(byte) v, (byte) (v >>> 8), (byte) (v >>> 16), (byte) (v >>> 24)};
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must provide SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return "BlockHasher[v1, sha256/128, blockSize=" + blockSize + "]";
    }
}
