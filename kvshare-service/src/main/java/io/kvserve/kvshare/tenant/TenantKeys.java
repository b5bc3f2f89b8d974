package io.kvserve.kvshare.tenant;

import java.util.Objects;

/**
 * The Redis key names of kvshare's tenants, published prefixes and statistics, all under one prefix
 * ({@value #DEFAULT_PREFIX} unless a deployment or a test chooses another). The layout is specified
 * in {@code docs/redis-schema.md}, section "kvshare's tenants and published prefixes"; the scheduler
 * reads {@link #tenant(String)} and {@link #published(String)} with the same names (it hashes prompts
 * with {@link ChainHasher} too), so change both or neither.
 */
public final class TenantKeys {

    /** The default key prefix. */
    public static final String DEFAULT_PREFIX = "kvshare:";

    private final String prefix;

    /** Keys under {@link #DEFAULT_PREFIX}. */
    public TenantKeys() {
        this(DEFAULT_PREFIX);
    }

    /** Keys under {@code prefix} (e.g. {@code "kvshare:"}; tests use a unique one). */
    public TenantKeys(String prefix) {
        Objects.requireNonNull(prefix, "prefix");
        if (prefix.isEmpty()) {
            throw new IllegalArgumentException("key prefix is empty; use \"" + DEFAULT_PREFIX + "\"");
        }
        this.prefix = prefix;
    }

    /** The key prefix, e.g. {@code "kvshare:"}. */
    public String prefix() {
        return prefix;
    }

    /** HASH {@code salt} (base64 of 32 bytes), {@code created_ms}: one tenant's secret salt. */
    public String tenant(String tenantId) {
        return prefix + "tenant:" + tenantId;
    }

    /** SET of every tenant id that has a salt. */
    public String tenants() {
        return prefix + "tenants";
    }

    /** HASH prefix name -> JSON {@code {"token_ids":[..],"num_blocks":n,"created_ms":t}}. */
    public String published(String model) {
        return prefix + "published:" + model;
    }

    /** STRING counter, INCR on every change of {@link #published(String)}; replicas poll it. */
    public String publishedVersion(String model) {
        return prefix + "published-version:" + model;
    }

    /** SET of models that have (or had) published prefixes. */
    public String publishedModels() {
        return prefix + "published-models";
    }

    /** HASH {@code queries}, {@code query_blocks}, {@code hit_blocks}: one tenant's hit counters. */
    public String tenantStats(String tenantId) {
        return prefix + "stats:tenant:" + tenantId;
    }

    /** HASH {@code queries}, {@code hit_blocks}: one instance's hit counters. */
    public String instanceStats(String instanceId) {
        return prefix + "stats:instance:" + instanceId;
    }

    /** SET of instance ids that have {@link #instanceStats(String)}. */
    public String statsInstances() {
        return prefix + "stats:instances";
    }

    @Override
    public String toString() {
        return "TenantKeys[" + prefix + "]";
    }
}
