package io.kvserve.gateway.quota;

import io.kvserve.gateway.tenant.Caller;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import reactor.core.publisher.Mono;

/**
 * An admitted request's reservation: {@code reservedTokens} charged on the TPM and daily counters and,
 * where a concurrency limit is set, a stream slot. {@link #release} reconciles it with the real usage;
 * only the first call counts, so cancel, error and completion paths may all call it.
 */
public final class Lease {

    /** Where the reservation lives. */
    enum Mode {
        /** In Redis, shared by all replicas. */
        REDIS,
        /** In this replica's memory ({@code CACHED_KEYS} during an outage). */
        LOCAL,
        /** Nowhere: admitted without enforcement ({@code FAIL_OPEN} during an outage). */
        UNENFORCED
    }

    private final QuotaService quotas;
    private final Caller caller;
    private final List<QuotaScope> scopes;
    private final String leaseId;
    private final int reservedTokens;
    private final String admitDay;
    private final Mode mode;
    private final AtomicBoolean released = new AtomicBoolean();

    Lease(QuotaService quotas, Caller caller, List<QuotaScope> scopes, String leaseId, int reservedTokens,
          String admitDay, Mode mode) {
        this.quotas = quotas;
        this.caller = caller;
        this.scopes = scopes;
        this.leaseId = leaseId;
        this.reservedTokens = reservedTokens;
        this.admitDay = admitDay;
        this.mode = mode;
    }

    /**
     * Reconciles with {@code actualTokens} used (refunds or charges the difference to the reservation on the
     * TPM and daily counters), frees the stream slot and records the usage (as a total, no breakdown).
     * Idempotent; never fails (a Redis error is logged, and the slot then expires with the lease TTL).
     */
    public Mono<Void> release(int actualTokens) {
        return release(Usage.ofTotal(actualTokens));
    }

    /** As {@link #release(int)}, with the usage broken down; {@code usage.totalTokens()} is what is charged. */
    public Mono<Void> release(Usage usage) {
        return Mono.defer(() -> released.compareAndSet(false, true) ? quotas.release(this, usage) : Mono.empty());
    }

    public String leaseId() {
        return leaseId;
    }

    public int reservedTokens() {
        return reservedTokens;
    }

    public Caller caller() {
        return caller;
    }

    /** True once {@link #release} has been called. */
    public boolean released() {
        return released.get();
    }

    List<QuotaScope> scopes() {
        return scopes;
    }

    String admitDay() {
        return admitDay;
    }

    Mode mode() {
        return mode;
    }
}
