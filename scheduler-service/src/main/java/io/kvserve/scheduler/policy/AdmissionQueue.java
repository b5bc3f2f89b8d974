package io.kvserve.scheduler.policy;

import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;

/**
 * The per-model queue for requests that arrive while every instance is {@link Saturation saturated}:
 * fair across tenants, cache-aware inside a tenant, and bounded in wait.
 *
 * <h2>Design</h2>
 * <ol>
 *   <li>Across tenants: deficit round-robin [1]. Tenants with queued requests sit in a ring; a tenant
 *       whose turn comes gets {@code quantumTokens x weight(tenant)} added to its deficit and is served
 *       while its next request's charge fits, then the turn passes. Over a backlogged stretch each
 *       tenant's share of the charged work is proportional to its weight, within one maximum request,
 *       at O(1) work per request. A tenant's deficit resets when its queue empties, so idle tenants bank
 *       nothing.</li>
 *   <li>The charge is the request's uncached prompt tokens (at least {@code minChargeTokens}), not one
 *       per request: prefill is the work a queued request costs the cluster, and a prefix hit costs
 *       almost none. So a tenant that reuses its prompts gets more requests through the same budget,
 *       which is the incentive KVShare's hit-rate-aware scheduling [2] wants, without letting a
 *       cache-friendly tenant take another tenant's share.</li>
 *   <li>Inside a tenant: highest expected hit rate first [2]; ties by arrival. Placing likely hits
 *       first serves more requests per second of prefill while their blocks are still cached. The order
 *       is per tenant only: a tenant's position never depends on another tenant's hits, so queueing
 *       order leaks no other tenant's prompt [3] (published attacks read prompts from
 *       longest-prefix-first ordering across users).</li>
 *   <li>Aging: hit-first can starve a cold request under a stream of warm ones, and a low-weight
 *       tenant can wait long behind heavy ones. So before DRR, the oldest request that has waited
 *       more than {@code maxWaitMs} is served (and charged to its tenant, whose deficit may go
 *       negative and is paid back in later turns). A request is thus served at the first poll after
 *       {@code maxWaitMs} at which no older request is overdue; vLLM's and Sarathi-Serve's [4]
 *       experience is that pure priority orders need such a bound to keep tail latency finite.</li>
 * </ol>
 * Admission control: {@link #offer} refuses beyond {@code capacity} requests in all or
 * {@code maxPerTenant} for one tenant (the service answers 429 with Retry-After), so one tenant's burst
 * cannot fill the queue for everyone.
 *
 * <p>Time comes only from the callers' {@code enqueuedMs} and {@code nowMs}. Not thread-safe: one
 * owner thread (the service's placement loop or the simulator).
 *
 * <p>References: [1] M. Shreedhar, G. Varghese, "Efficient Fair Queuing using Deficit Round Robin",
 * SIGCOMM 1995. [2] KVShare: hit-rate-aware request scheduling over a shared multi-tenant prefix cache.
 * [3] docs/architecture.md, "Why tenancy is designed this way". [4] vLLM scheduler (FCFS / priority
 * with preemption) and Sarathi-Serve (Agrawal et al., OSDI 2024) on stall-free, bounded-latency
 * batching.
 *
 * @param <T> the payload carried by each {@link QueuedRequest}
 */
public final class AdmissionQueue<T> {

    /**
     * @param capacity        most requests queued in all; beyond it {@link #offer} returns false
     * @param maxPerTenant    most requests queued for one tenant (at most {@code capacity})
     * @param maxWaitMs       a request that has waited longer than this is served before DRR order
     * @param quantumTokens   tokens of budget a tenant of weight 1 gets per DRR turn; e.g. 2048
     * @param minChargeTokens least charge per request, so full hits are cheap but not free; e.g. 16 (one block)
     */
    public record Config(int capacity, int maxPerTenant, long maxWaitMs, int quantumTokens, int minChargeTokens) {

        public Config {
            if (capacity < 1) {
                throw new IllegalArgumentException("capacity must be >= 1, was " + capacity);
            }
            if (maxPerTenant < 1 || maxPerTenant > capacity) {
                throw new IllegalArgumentException("maxPerTenant must be in [1, capacity=" + capacity + "], was "
                        + maxPerTenant);
            }
            if (maxWaitMs < 0) {
                throw new IllegalArgumentException("maxWaitMs must be >= 0, was " + maxWaitMs);
            }
            if (quantumTokens < 1) {
                throw new IllegalArgumentException("quantumTokens must be >= 1, was " + quantumTokens
                        + "; use about one typical prompt, e.g. 2048");
            }
            if (minChargeTokens < 1) {
                throw new IllegalArgumentException("minChargeTokens must be >= 1, was " + minChargeTokens
                        + "; e.g. 16 (one KV block)");
            }
        }

        /** capacity 1024, 256 per tenant, 10 s maximum wait, quantum 2048 tokens, charge at least 16. */
        public static final Config DEFAULTS = new Config(1024, 256, 10_000, 2048, 16);
    }

    private static final class Entry<T> {
        final QueuedRequest<T> request;
        final long seq;
        final long charge;

        Entry(QueuedRequest<T> request, long seq, long charge) {
            this.request = request;
            this.seq = seq;
            this.charge = charge;
        }
    }

    private static final class Tenant<T> {
        final String id;
        final double weight;
        final TreeSet<Entry<T>> queue;
        double deficit;
        boolean granted;

        Tenant(String id, double weight, Comparator<Entry<T>> order) {
            this.id = id;
            this.weight = weight;
            this.queue = new TreeSet<>(order);
        }
    }

    private final Comparator<Entry<T>> byHitThenArrival = Comparator
            .<Entry<T>>comparingDouble(e -> -e.request.expectedHitRate())
            .thenComparingLong(e -> e.request.enqueuedMs())
            .thenComparingLong(e -> e.seq);
    private final Comparator<Entry<T>> byArrival = Comparator
            .<Entry<T>>comparingLong(e -> e.request.enqueuedMs())
            .thenComparingLong(e -> e.seq);

    private final Config config;
    private final ToDoubleFunction<String> weights;
    private final Map<String, Tenant<T>> tenants = new HashMap<>();
    /** Tenants with queued requests; the head's turn is current. */
    private final ArrayDeque<Tenant<T>> ring = new ArrayDeque<>();
    private final TreeSet<Entry<T>> all = new TreeSet<>(byArrival);
    private long nextSeq;

    /** Every tenant weight 1. */
    public AdmissionQueue(Config config) {
        this(config, tenantId -> 1.0);
    }

    /**
     * @param weights a tenant's DRR weight (finite, > 0), read when the tenant's first queued request
     *                arrives and kept while it has requests queued
     */
    public AdmissionQueue(Config config, ToDoubleFunction<String> weights) {
        this.config = Objects.requireNonNull(config, "config");
        this.weights = Objects.requireNonNull(weights, "weights");
    }

    /**
     * Queues {@code request}; false when the queue or the tenant's share of it is full (answer 429).
     *
     * @throws IllegalArgumentException when the weight function gives a new tenant a weight that is not
     *                                  finite and > 0 (a configuration bug)
     */
    public boolean offer(QueuedRequest<T> request) {
        Objects.requireNonNull(request, "request");
        if (all.size() >= config.capacity()) {
            return false;
        }
        Tenant<T> tenant = tenants.get(request.tenantId());
        if (tenant != null && tenant.queue.size() >= config.maxPerTenant()) {
            return false;
        }
        if (tenant == null) {
            double weight = weights.applyAsDouble(request.tenantId());
            if (!(weight > 0) || Double.isInfinite(weight)) {
                throw new IllegalArgumentException("weight of tenant " + request.tenantId()
                        + " must be finite and > 0, was " + weight);
            }
            tenant = new Tenant<>(request.tenantId(), weight, byHitThenArrival);
            tenants.put(tenant.id, tenant);
            ring.addLast(tenant);
        }
        Entry<T> entry = new Entry<>(request, nextSeq++, Math.max(config.minChargeTokens(), request.uncachedTokens()));
        tenant.queue.add(entry);
        all.add(entry);
        return true;
    }

    /**
     * The next request to place, removed from the queue: the oldest overdue one (waited more than
     * {@code maxWaitMs} at {@code nowMs}) if any, else the next in weighted DRR order across tenants
     * and hit-rate order inside the tenant. Empty when nothing is queued.
     */
    public Optional<QueuedRequest<T>> poll(long nowMs) {
        if (all.isEmpty()) {
            return Optional.empty();
        }
        Entry<T> oldest = all.first();
        if (nowMs - oldest.request.enqueuedMs() > config.maxWaitMs()) {
            Tenant<T> tenant = tenants.get(oldest.request.tenantId());
            tenant.deficit -= oldest.charge;
            remove(tenant, oldest);
            return Optional.of(oldest.request);
        }
        int unserved = 0;
        while (true) {
            Tenant<T> tenant = ring.peekFirst();
            if (!tenant.granted) {
                tenant.deficit += config.quantumTokens() * tenant.weight;
                tenant.granted = true;
            }
            Entry<T> head = tenant.queue.first();
            if (head.charge <= tenant.deficit) {
                tenant.deficit -= head.charge;
                remove(tenant, head);
                return Optional.of(head.request);
            }
            tenant.granted = false;
            ring.addLast(ring.pollFirst());
            if (++unserved == ring.size()) {
                skipIdleRounds();
                unserved = 0;
            }
        }
    }

    /**
     * After a full round in which no tenant could pay for its head request: adds the k further rounds
     * in which none still could (k = min over tenants of grants still missing, minus one) at once, so
     * a poll costs O(tenants) however large a request is against the quantum.
     */
    private void skipIdleRounds() {
        double rounds = Double.MAX_VALUE;
        for (Tenant<T> tenant : ring) {
            double missing = tenant.queue.first().charge - tenant.deficit;
            rounds = Math.min(rounds, Math.ceil(missing / (config.quantumTokens() * tenant.weight)) - 1);
        }
        if (rounds >= 1) {
            for (Tenant<T> tenant : ring) {
                tenant.deficit += rounds * config.quantumTokens() * tenant.weight;
            }
        }
    }

    private void remove(Tenant<T> tenant, Entry<T> entry) {
        tenant.queue.remove(entry);
        all.remove(entry);
        if (tenant.queue.isEmpty()) {
            // DRR: an emptied queue leaves the ring and keeps no credit (nor debt)
            ring.remove(tenant);
            tenants.remove(tenant.id);
        }
    }

    /** Requests queued in all. */
    public int size() {
        return all.size();
    }

    /** Requests queued for {@code tenantId}. */
    public int size(String tenantId) {
        Tenant<T> tenant = tenants.get(tenantId);
        return tenant == null ? 0 : tenant.queue.size();
    }

    /** How long the oldest queued request has waited at {@code nowMs}; 0 when empty. */
    public long oldestWaitMs(long nowMs) {
        return all.isEmpty() ? 0 : Math.max(0, nowMs - all.first().request.enqueuedMs());
    }

    public Config config() {
        return config;
    }
}
