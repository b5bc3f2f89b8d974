package io.kvserve.scheduler.service;

import io.kvserve.common.openai.PlacementAnswer;
import io.kvserve.common.events.InstanceRegistration;
import io.kvserve.common.events.InstanceStatus;
import io.kvserve.common.openai.OpenAiException;
import io.kvserve.common.openai.OpenAiRequests;
import io.kvserve.common.openai.PlaceRequest;
import io.kvserve.common.openai.PromptIds;
import io.kvserve.kvshare.tenant.ChainHasher;
import io.kvserve.kvshare.tenant.HashedPrompt;
import io.kvserve.kvshare.tenant.TenantSalts;
import io.kvserve.scheduler.policy.AdmissionQueue;
import io.kvserve.scheduler.policy.ClusterSnapshot;
import io.kvserve.scheduler.policy.InstanceView;
import io.kvserve.scheduler.policy.Placement;
import io.kvserve.scheduler.policy.PlacementPolicy;
import io.kvserve.scheduler.policy.PlacementRequest;
import io.kvserve.scheduler.policy.QueuedRequest;
import io.kvserve.scheduler.policy.Saturation;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Places one request:
 * <pre>
 *   envelope {api, tenant_id, request} -&gt; OpenAiRequests.parsePlace (the public endpoint's checks, 400)
 *   -&gt; [bounded-elastic, one hop] model known? (404) -&gt; PromptIds: chat template + tokenize (the
 *      instance's code) -&gt; live instances of the model (503 none) -&gt; context check (400)
 *      -&gt; the tenant's salt -&gt; the block-hash chain (ChainHasher: the salt, any published prefix)
 *   -&gt; kvshare hits for the chain (timeout: unknown, place by load)
 *   -&gt; snapshot (registry load + placements made since each instance's last heartbeat)
 *   -&gt; every instance saturated? wait in the model's AdmissionQueue (429 when full; 503 after
 *      max-queue-wait); the dispatcher places queued requests as instances free up
 *   -&gt; policy -&gt; instance, fallbacks, predicted hit
 * </pre>
 */
public final class Placer implements SmartLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(Placer.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ModelCatalog catalog;
    private final RegistryWatcher registry;
    private final KvshareClient kvshare;
    private final TenantSalts salts;
    private final ChainHasher hasher;
    private final PlacementPolicy policy;
    private final SchedulerProperties properties;
    private final MeterRegistry meters;
    private final Timer latency;
    private final Counter unknownHits;
    private final Map<String, Integer> placedSinceHeartbeat = new ConcurrentHashMap<>();
    private final Map<String, AdmissionQueue<Pending>> queues = new ConcurrentHashMap<>();
    /** Each tenant's DRR weight as the gateway last sent it (its operator sets it); 1 until then. */
    private final Map<String, Double> tenantWeights = new ConcurrentHashMap<>();
    private final Saturation saturation;
    private final AdmissionQueue.Config queueConfig;
    private final Counter queued;
    private final Counter queueFull;
    private final Map<String, Long> lastHeartbeatMs = new ConcurrentHashMap<>();

    public Placer(ModelCatalog catalog, RegistryWatcher registry, KvshareClient kvshare, TenantSalts salts,
                  ChainHasher hasher, PlacementPolicy policy, SchedulerProperties properties, MeterRegistry meters) {
        this.catalog = catalog;
        this.registry = registry;
        this.kvshare = kvshare;
        this.salts = salts;
        this.hasher = hasher;
        this.policy = policy;
        this.properties = properties;
        this.meters = meters;
        this.latency = Timer.builder("kvserve_scheduler_placement_latency").description(
                "Placement latency: parse, tokenize, kvshare query, score").publishPercentileHistogram().register(meters);
        this.unknownHits = Counter.builder("kvserve_scheduler_kvshare_unknown_total")
                .description("Placements made by load alone because kvshare did not answer").register(meters);
        this.saturation = new Saturation(properties.maxLoad(), properties.maxKvUsage());
        this.queueConfig = new AdmissionQueue.Config(properties.queueSize(),
                Math.min(properties.queueSize(), AdmissionQueue.Config.DEFAULTS.maxPerTenant()),
                properties.maxQueueWait().toMillis() / 2, AdmissionQueue.Config.DEFAULTS.quantumTokens(),
                AdmissionQueue.Config.DEFAULTS.minChargeTokens());
        this.queued = Counter.builder("kvserve_scheduler_queued_total")
                .description("Requests that waited for a placement (every instance saturated)").register(meters);
        this.queueFull = Counter.builder("kvserve_scheduler_queue_full_total")
                .description("Requests refused with 429: every instance saturated and the queue full").register(meters);
    }

    private ScheduledExecutorService dispatcher;

    /** Starts the dispatcher that places queued requests as instances free up (every 20 ms). */
    @Override
    public void start() {
        dispatcher = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("scheduler-dispatcher")
                .daemon(true).unstarted(r));
        dispatcher.scheduleWithFixedDelay(() -> {
            try {
                dispatch();
            } catch (RuntimeException e) {
                LOG.warn("dispatch round failed: {}", e.toString());
            }
        }, 20, 20, TimeUnit.MILLISECONDS);
    }

    @Override
    public void stop() {
        if (dispatcher != null) {
            dispatcher.shutdownNow();
            dispatcher = null;
        }
    }

    @Override
    public boolean isRunning() {
        return dispatcher != null;
    }

    public String policyName() {
        return policy.name();
    }

    public Mono<PlacementAnswer> place(byte[] body) {
        long start = System.nanoTime();
        return Mono.fromCallable(() -> OpenAiRequests.parsePlace(body, OpenAiRequests.Limits.DEFAULT))
                .flatMap(call -> Mono.fromCallable(() -> prepare(call)).subscribeOn(Schedulers.boundedElastic())
                        .flatMap(prompt -> placePrompt(call, prompt)))
                .doOnNext(answer -> latency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS));
    }

    /**
     * A prompt ready for kvshare and the policy: its token ids, the live instances that could run it,
     * the tenant's salt, and its chain (empty when it cannot be hashed now: an ephemeral salt, or the
     * published prefixes unreadable; kvshare is then not asked and the policy places by load).
     */
    private record Prompt(int[] promptIds, List<InstanceRegistration> live, int maxTokens, Salt salt,
                          Optional<HashedPrompt> hashed) {
    }

    /** Everything before the kvshare query, in one hop off the event loop (tokenizing and salts block or take time). */
    private Prompt prepare(PlaceRequest call) {
        int[] promptIds = tokenize(call);
        List<InstanceRegistration> live = liveInstances(call.model());
        if (live.isEmpty()) {
            throw OpenAiException.unavailable("no live instance serves the model '" + call.model()
                    + "' right now" + (registry.redisUp() ? "" : " (the registry in Redis is unreachable)"),
                    Duration.ofSeconds(1));
        }
        int maxContext = live.stream().mapToInt(InstanceRegistration::maxModelLen).max().orElse(0);
        int maxTokens = call.params().maxTokens() == null ? 1 : call.params().maxTokens();
        if (promptIds.length >= maxContext || (long) promptIds.length + maxTokens > maxContext) {
            throw OpenAiException.invalidRequest(call.params().maxTokens() == null ? "messages" : "max_tokens",
                    "the longest context of any instance of " + call.model() + " is " + maxContext + " tokens; the "
                            + "prompt has " + promptIds.length + (call.params().maxTokens() == null ? ""
                            : " and max_tokens is " + maxTokens), "context_length_exceeded");
        }
        Salt salt = tenantSalt(call.tenantId());
        Optional<HashedPrompt> hashed = Optional.empty();
        if (salt.source().equals("tenant") && kvshare.configured()) {
            try {
                hashed = Optional.of(hasher.hashWithSalt(call.model(), salt.bytes(), promptIds));
            } catch (RuntimeException e) {
                // the published prefixes are unreadable (Redis away): a chain without them could miss
                // shared blocks or, worse, be wrong, so kvshare is not asked
                LOG.warn("published prefixes of {} unavailable ({}); placing by load", call.model(), e.toString());
            }
        }
        return new Prompt(promptIds, live, maxTokens, salt, hashed);
    }

    private int[] tokenize(PlaceRequest call) {
        ModelCatalog.Model model = catalog.model(call.model())
                .orElseThrow(() -> OpenAiException.modelNotFound(call.model(), String.join(", ", catalog.names())));
        int[] ids = switch (call.api()) {
            case CHAT -> PromptIds.of(call.chat(), model.chatTemplate(), model.tokenizer());
            case COMPLETIONS -> PromptIds.of(call.completion(), model.tokenizer());
        };
        if (ids.length == 0) {
            throw OpenAiException.invalidRequest("prompt", "the prompt is empty after tokenization");
        }
        return ids;
    }

    private Mono<PlacementAnswer> placePrompt(PlaceRequest call, Prompt prompt) {
        Mono<Optional<KvshareClient.Hits>> hits = prompt.hashed().isEmpty() ? Mono.just(Optional.empty())
                : kvshare.hits(call.model(), call.tenantId(), prompt.promptIds(), prompt.hashed().get());
        return hits.flatMap(h -> decideOrQueue(new Pending(call, prompt.promptIds(), prompt.maxTokens(), h,
                prompt.salt(), new CompletableFuture<>())));
    }

    /** A request waiting for a placement: everything needed to decide later, and its answer. */
    private record Pending(PlaceRequest call, int[] promptIds, int maxTokens, Optional<KvshareClient.Hits> hits, Salt salt,
                           CompletableFuture<PlacementAnswer> answer) {
    }

    /**
     * Places now when some instance that could take the request is below saturation; otherwise the
     * request waits in its model's admission queue (429 when that is full) for the dispatcher.
     */
    private Mono<PlacementAnswer> decideOrQueue(Pending pending) {
        List<InstanceRegistration> live = liveInstances(pending.call().model());
        ClusterSnapshot snapshot = snapshot(live);
        PlacementRequest request = request(pending);
        if (live.isEmpty() || !saturation.allSaturated(request, snapshot)) {
            return Mono.fromCallable(() -> decide(pending, live, snapshot, request));
        }
        tenantWeights.put(pending.call().tenantId(), (double) pending.call().tenantWeight());
        AdmissionQueue<Pending> queue = queues.computeIfAbsent(pending.call().model(),
                m -> new AdmissionQueue<>(queueConfig, tenant -> tenantWeights.getOrDefault(tenant, 1.0)));
        int best = pending.hits().map(h -> h.cachedTokensByInstance().values().stream().mapToInt(Integer::intValue)
                .max().orElse(0)).orElse(0);
        boolean accepted;
        synchronized (queue) {
            accepted = queue.offer(new QueuedRequest<>(pending.call().tenantId(), System.currentTimeMillis(),
                    (double) best / pending.promptIds().length, pending.promptIds().length - best, pending));
        }
        if (!accepted) {
            queueFull.increment();
            return Mono.error(OpenAiException.rateLimited("every instance of '" + pending.call().model()
                    + "' is saturated and the admission queue is full; retry later", Duration.ofSeconds(1)));
        }
        queued.increment();
        return Mono.fromFuture(pending.answer(), true).timeout(properties.maxQueueWait(),
                Mono.error(() -> OpenAiException.unavailable("every instance of '" + pending.call().model()
                        + "' stayed saturated for " + properties.maxQueueWait() + "; retry later", Duration.ofSeconds(1))))
                .doOnCancel(() -> pending.answer().cancel(false))
                .doOnError(e -> pending.answer().cancel(false));
    }

    /**
     * The dispatcher's round: for every model with waiting requests, place them (fair and cache-aware
     * order: {@link AdmissionQueue}) while some instance is below saturation. Requests whose caller
     * gave up (timeout, disconnect) are skipped.
     */
    void dispatch() {
        for (Map.Entry<String, AdmissionQueue<Pending>> entry : queues.entrySet()) {
            AdmissionQueue<Pending> queue = entry.getValue();
            while (true) {
                List<InstanceRegistration> live = liveInstances(entry.getKey());
                ClusterSnapshot snapshot = snapshot(live);
                Optional<QueuedRequest<Pending>> next;
                synchronized (queue) {
                    if (queue.size() == 0) {
                        break;
                    }
                    boolean anyFree = snapshot.instances().stream().anyMatch(i -> !saturation.saturated(i));
                    if (!anyFree) {
                        break;
                    }
                    next = queue.poll(System.currentTimeMillis());
                }
                if (next.isEmpty()) {
                    break;
                }
                Pending pending = next.get().payload();
                if (pending.answer().isDone()) {
                    continue;
                }
                try {
                    pending.answer().complete(decide(pending, live, snapshot, request(pending)));
                } catch (RuntimeException e) {
                    pending.answer().completeExceptionally(e);
                }
            }
        }
    }

    /** Requests waiting for a placement, over all models. */
    public int numQueued() {
        int n = 0;
        for (AdmissionQueue<Pending> queue : queues.values()) {
            synchronized (queue) {
                n += queue.size();
            }
        }
        return n;
    }

    private List<InstanceRegistration> liveInstances(String model) {
        return registry.serving(model).stream().filter(i -> i.status() != InstanceStatus.DRAINING).toList();
    }

    private ClusterSnapshot snapshot(List<InstanceRegistration> live) {
        List<InstanceView> views = new ArrayList<>(live.size());
        for (InstanceRegistration i : live) {
            views.add(new InstanceView(i.id(), i.numRunning() + placedSince(i), i.numWaiting(), i.kvCacheUsage(),
                    i.kvCapacityTokens(), i.maxModelLen(), properties.prefillTokensPerSecond(), false));
        }
        return new ClusterSnapshot(views, System.currentTimeMillis());
    }

    private static PlacementRequest request(Pending pending) {
        return new PlacementRequest(pending.call().tenantId(), pending.promptIds().length, pending.maxTokens(),
                pending.hits().map(KvshareClient.Hits::cachedTokensByInstance));
    }

    /** The salt the instance gets (and the chain is hashed with); {@code source} is tenant or ephemeral. */
    private record Salt(byte[] bytes, String source) {

        String base64() {
            return Base64.getEncoder().encodeToString(bytes);
        }

        @Override
        public String toString() {
            return "Salt[" + source + ", <secret>]";
        }
    }

    private Salt tenantSalt(String tenant) {
        try {
            return new Salt(salts.saltOf(tenant), "tenant");
        } catch (IllegalArgumentException e) {
            throw OpenAiException.invalidRequest("tenant_id", e.getMessage());
        } catch (RuntimeException e) {
            // Redis is away and the salt is not cached: a one-off salt keeps the request private
            LOG.warn("tenant salt unavailable ({}); using an ephemeral salt (no prefix reuse)", e.toString());
            byte[] ephemeral = new byte[32];
            RANDOM.nextBytes(ephemeral);
            return new Salt(ephemeral, "ephemeral");
        }
    }

    private PlacementAnswer decide(Pending pending, List<InstanceRegistration> live, ClusterSnapshot snapshot,
                                   PlacementRequest request) {
        PlaceRequest call = pending.call();
        Optional<KvshareClient.Hits> hits = pending.hits();
        Salt salt = pending.salt();
        int[] promptIds = pending.promptIds();
        if (hits.isEmpty()) {
            unknownHits.increment();
        }
        Placement placement = policy.place(request, snapshot);
        if (!placement.placed()) {
            throw OpenAiException.unavailable("no instance of '" + call.model() + "' can take this request now",
                    Duration.ofSeconds(1));
        }
        Map<String, InstanceRegistration> byId = new HashMap<>();
        live.forEach(i -> byId.put(i.id(), i));
        List<PlacementAnswer.Target> ranked = placement.rankedInstanceIds().stream()
                .map(id -> new PlacementAnswer.Target(id, byId.get(id).url())).toList();
        placedSinceHeartbeat.merge(ranked.getFirst().id(), 1, Integer::sum);
        Counter.builder("kvserve_scheduler_placements_total").tag("policy", policy.name())
                .tag("reason", placement.reason()).register(meters).increment();
        Counter.builder("kvserve_scheduler_predicted_hit_tokens_total").tag("tenant", call.tenantId())
                .register(meters).increment(placement.predictedHitTokens());
        return new PlacementAnswer(UUID.randomUUID().toString(), call.model(), ranked.getFirst(),
                ranked.subList(1, ranked.size()), promptIds, hits.map(KvshareClient.Hits::numPublishedBlocks).orElse(0),
                salt.base64(), salt.source(), placement.predictedHitTokens(), policy.name(), placement.reason(),
                hits.isPresent() ? "ok" : "unknown");
    }

    /** Requests placed on {@code instance} since its last heartbeat (its reported load does not show them yet). */
    private int placedSince(InstanceRegistration instance) {
        Long last = lastHeartbeatMs.put(instance.id(), instance.heartbeatAtMs());
        if (last == null || last != instance.heartbeatAtMs()) {
            placedSinceHeartbeat.remove(instance.id());
            return 0;
        }
        return placedSinceHeartbeat.getOrDefault(instance.id(), 0);
    }

    /** The gateway reports what the instance actually hit (usage.prompt_tokens_details.cached_tokens). */
    public void recordDelivered(String tenant, int predictedTokens, int deliveredTokens) {
        Counter.builder("kvserve_scheduler_delivered_hit_tokens_total").tag("tenant", tenant).register(meters)
                .increment(deliveredTokens);
        Counter.builder("kvserve_scheduler_delivered_reports_total").tag("tenant", tenant)
                .tag("outcome", deliveredTokens >= predictedTokens ? "as_predicted" : "less_than_predicted")
                .register(meters).increment();
    }
}
