package io.kvserve.gateway.quota;

import io.kvserve.common.openai.OpenAiError;
import io.kvserve.common.openai.OpenAiException;
import io.kvserve.gateway.tenant.ApiKeys;
import io.kvserve.gateway.tenant.Caller;
import io.kvserve.gateway.tenant.Limits;
import io.kvserve.gateway.tenant.RedisOutagePolicy;
import io.kvserve.gateway.tenant.RedisScript;
import io.kvserve.gateway.tenant.RedisStatus;
import io.lettuce.core.Range;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Per-tenant and per-key quotas, enforced across gateway replicas by atomic Lua scripts in Redis.
 *
 * <h2>Design</h2>
 * A request is checked against up to two scopes: its tenant's limits, then its key's own (each only if
 * it sets any). One admit script checks every limit of every scope and charges all of them only if all
 * admit, so a rejected request costs nothing, and two replicas never both take the last unit.
 *
 * <p><b>Per-minute limits are GCRA</b> (the generic cell rate algorithm [1]; the same as redis-cell [2]
 * and Brandur Leach's write-up [3]). A limit of L per minute has an emission interval T = 60 s / L, and
 * one key per limit holds the theoretical arrival time (TAT): when the bucket would be full again. A
 * request costing c (1 for RPM, the reserved tokens for TPM) is admitted when
 * {@code max(TAT, now) + c*T - now <= 60 s}, which then becomes the new TAT. So a burst of up to L
 * (requests or tokens) passes at once, and capacity comes back smoothly at one unit per T, not all at
 * the top of a minute. When rejected, {@code Retry-After} is the exact time until it would fit:
 * {@code max(TAT, now) + c*T - 60 s - now}. Example: RPM 3 (T = 20 s): three requests at t=0 set
 * TAT = 60 s; a fourth gets Retry-After 20 s.
 *
 * <p>T is rarely a whole number of milliseconds (RPM 9: 6666.67 ms) and TATs are absolute times near
 * 1.8e12 ms, so a burst of L sums to 60 s only within floating-point noise (about 1e-4 ms per step).
 * The admit test therefore allows {@code TOL} = 0.5 ms over 60 s: far below one request's interval for
 * any RPM up to 60,000, so a burst of exactly L passes and the L+1st does not; for a token limit with
 * T under 1 ms it is at most half a millisecond's worth of tokens. TATs are stored with full precision.
 *
 * <pre>
 *   cost c, period P = 60 s, T = P / limit
 *   now        TAT             TAT + c*T
 *    |----------|=================|          admitted iff TAT + c*T - now <= P
 *    |&lt;--------------- P ------------------&gt;|
 *   remaining = floor((P - (TAT - now)) / T); reset (full again) = TAT - now
 * </pre>
 *
 * <p><b>Concurrency</b> is a sorted set of lease ids scored by expiry (now + {@code gateway.quota.lease-ttl});
 * the admit script first drops expired members, so a gateway that dies holding leases leaks them for at
 * most the TTL. A stream that outlives the TTL loses its slot early (one more may start). Retry-After is
 * 1 s: when a slot frees is unknown.
 *
 * <p><b>Daily budget</b>: a counter per scope and UTC day, charged with the reservation; Retry-After is the
 * time to the next UTC midnight. Its day and every timestamp come from the gateway's clock
 * ({@link InstantSource}), not Redis's {@code TIME}: tests can then fix time, and replicas' clocks are
 * NTP-synced (a skew of s shifts a limit by s).
 *
 * <p><b>Release</b> reconciles: the difference between the real tokens and the reservation is added to
 * the TPM TAT ({@code delta*T}, a refund never taking it below now) and to the admit day's counter, the
 * lease leaves the set, and the usage is added to {@code usage:<tenant>:<day>}.
 *
 * <p>A reservation larger than a per-minute token limit or a daily budget can never fit: it is rejected
 * with 429 (as OpenAI's "Request too large ... on tokens per min") without {@code Retry-After}.
 *
 * <pre>
 *   &lt;s&gt; = &lt;p&gt;q:t:&lt;tenant&gt;: or &lt;p&gt;q:k:&lt;key id&gt;:
 *   &lt;s&gt;rpm  &lt;s&gt;tpm        STRING TAT, ms since epoch (full double precision); PX until it no longer matters
 *   &lt;s&gt;streams            ZSET   lease id -&gt; expiry ms
 *   &lt;s1&gt;lease:&lt;id&gt;        STRING tokens reserved by an admitted lease (s1: its first scope);
 *                               PX lease TTL + 60 s; lets a lost admission be undone exactly once
 *   &lt;s&gt;daily:&lt;yyyy-mm-dd&gt; STRING tokens charged that UTC day; TTL 2 days
 *   &lt;p&gt;usage:&lt;tenant&gt;:&lt;yyyy-mm-dd&gt;  HASH requests prompt_tokens completion_tokens cached_tokens
 *                                     total_tokens; TTL gateway.quota.usage-retention
 * </pre>
 *
 * <p>The scripts build their keys from ARGV (the prefix and scope bases), as kvshare's index does: fine
 * on one Redis and its replicas, not on Redis Cluster, which wants every key in KEYS.
 *
 * <p>While Redis is unreachable ({@link RedisStatus}), {@link RedisOutagePolicy} decides: {@code CACHED_KEYS}
 * enforces the same limits in this replica's memory ({@link LocalQuota}), {@code FAIL_OPEN} admits
 * without limits, {@code FAIL_CLOSED} answers 503. A lease admitted in Redis and released during an
 * outage is not reconciled (its slot expires with the TTL) and its usage is not recorded.
 *
 * <h2>References</h2>
 * <ol>
 *   <li>ATM Forum, Traffic Management Specification 4.0 (1996), the Generic Cell Rate Algorithm.</li>
 *   <li>Brandur Leach, redis-cell: a Redis module for GCRA rate limiting (github.com/brandur/redis-cell).</li>
 *   <li>Brandur Leach, "Rate limiting, cells, and GCRA" (brandur.org/rate-limiting, 2015).</li>
 * </ol>
 */
public final class QuotaService {

    /** Floating-point slack of the admit test, in ms (see the class comment); the Lua's {@code TOL}. */
    static final double TOLERANCE_MS = 0.5;

    private static final Logger log = LoggerFactory.getLogger(QuotaService.class);
    private static final Duration CONCURRENCY_RETRY = Duration.ofSeconds(1);

    /** ARGV: now lease expiry cost day msToMidnight, then per scope: base rpm tpm streams daily (0 = unset). */
    private static final RedisScript ADMIT = new RedisScript("""
            local PERIOD, TOL = 60000, 0.5
            local now, lease, expiry = tonumber(ARGV[1]), ARGV[2], ARGV[3]
            local cost, day, toMidnight = tonumber(ARGV[4]), ARGV[5], tonumber(ARGV[6])
            local checks, reject = {}, nil
            for i = 7, #ARGV, 5 do
              local base, scope = ARGV[i], (i - 7) / 5 + 1
              for kind = 1, 2 do
                local limit = tonumber(ARGV[i + kind])
                if limit > 0 then
                  local key = base .. (kind == 1 and 'rpm' or 'tpm')
                  local interval = PERIOD / limit
                  local v = redis.call('GET', key)
                  local tat = v and tonumber(v) or now
                  if tat < now then tat = now end
                  local newTat = tat + (kind == 1 and 1 or cost) * interval
                  checks[#checks + 1] = {kind, key, limit, interval, tat, newTat}
                  if not reject and newTat - now > PERIOD + TOL then
                    reject = {kind, scope, limit, math.ceil((tat - now - TOL) / interval),
                              math.ceil(newTat - now - PERIOD)}
                  end
                end
              end
              local streams = tonumber(ARGV[i + 3])
              if streams > 0 then
                local key = base .. 'streams'
                redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
                local n = redis.call('ZCARD', key)
                checks[#checks + 1] = {3, key}
                if not reject and n >= streams then reject = {3, scope, streams, n, 1000} end
              end
              local budget = tonumber(ARGV[i + 4])
              if budget > 0 then
                local key = base .. 'daily:' .. day
                local used = tonumber(redis.call('GET', key) or '0')
                checks[#checks + 1] = {4, key}
                if not reject and used + cost > budget then reject = {4, scope, budget, used, toMidnight} end
              end
            end
            local hdr = {-1, -1, -1, -1, -1, -1}
            for _, c in ipairs(checks) do
              if c[1] <= 2 then
                local t = reject and c[5] or c[6]
                local off = c[1] == 1 and 1 or 4
                local remaining = math.floor((PERIOD + TOL - (t - now)) / c[4])
                if remaining < 0 then remaining = 0 end
                if hdr[off] < 0 or remaining < hdr[off + 1] then
                  hdr[off], hdr[off + 1], hdr[off + 2] = c[3], remaining, math.ceil(t - now)
                end
              end
            end
            if reject then
              return {0, reject[1], reject[2], reject[3], reject[4], reject[5],
                      hdr[1], hdr[2], hdr[3], hdr[4], hdr[5], hdr[6]}
            end
            redis.call('SET', ARGV[7] .. 'lease:' .. lease, cost, 'PX', tonumber(expiry) - now + 60000)
            for _, c in ipairs(checks) do
              if c[1] <= 2 then
                redis.call('SET', c[2], string.format('%.17g', c[6]), 'PX', math.ceil(c[6] - now) + 1000)
              elseif c[1] == 3 then
                redis.call('ZADD', c[2], expiry, lease)
                redis.call('PEXPIRE', c[2], tonumber(expiry) - now + 1000)
              else
                redis.call('INCRBY', c[2], cost)
                redis.call('EXPIRE', c[2], 172800)
              end
            end
            return {1, 0, 0, 0, 0, 0, hdr[1], hdr[2], hdr[3], hdr[4], hdr[5], hdr[6]}
            """);

    /**
     * ARGV: now lease delta usageKey usageTtlSeconds prompt completion cached total compensate(0|1), then
     * per scope: base tpm streams(0|1) dailyKey('' = none). The admit script left {@code <first
     * base>lease:<id>}: a compensation (the admit's answer was lost: cancelled or timed out) undoes the
     * admission only if that record says it happened; a normal release goes ahead without it (a lease
     * older than its TTL still reconciles its tokens and records its usage).
     */
    private static final RedisScript RELEASE = new RedisScript("""
            local PERIOD = 60000
            local now, lease, delta = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
            local had = ARGV[11] and redis.call('DEL', ARGV[11] .. 'lease:' .. lease) or 0
            if ARGV[10] == '1' and had == 0 then return 0 end
            for i = 11, #ARGV, 4 do
              local base, tpm, streams, dailyKey = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3]
              if streams == '1' then redis.call('ZREM', base .. 'streams', lease) end
              if delta ~= 0 and tpm > 0 then
                local key = base .. 'tpm'
                local v = redis.call('GET', key)
                local tat = v and tonumber(v) or now
                if tat < now then tat = now end
                tat = tat + delta * PERIOD / tpm
                if tat <= now then
                  redis.call('DEL', key)
                else
                  redis.call('SET', key, string.format('%.17g', tat), 'PX', math.ceil(tat - now) + 1000)
                end
              end
              if delta ~= 0 and dailyKey ~= '' then
                if redis.call('INCRBY', dailyKey, delta) < 0 then redis.call('SET', dailyKey, 0, 'KEEPTTL') end
              end
            end
            if ARGV[10] == '1' then return 1 end
            local u = ARGV[4]
            redis.call('HINCRBY', u, 'requests', 1)
            redis.call('HINCRBY', u, 'prompt_tokens', ARGV[6])
            redis.call('HINCRBY', u, 'completion_tokens', ARGV[7])
            redis.call('HINCRBY', u, 'cached_tokens', ARGV[8])
            redis.call('HINCRBY', u, 'total_tokens', ARGV[9])
            redis.call('EXPIRE', u, ARGV[5])
            return 1
            """);

    private final Supplier<StatefulRedisConnection<String, String>> connection;
    private final String prefix;
    private final RedisStatus status;
    private final RedisOutagePolicy policy;
    private final Duration leaseTtl;
    private final Duration usageRetention;
    private final InstantSource clock;
    private final MeterRegistry meters;
    private final LocalQuota local = new LocalQuota();
    /** Whether {@link #local} holds counters from an outage, to drop once Redis answers again. */
    private volatile boolean localInUse;

    /**
     * @param connection     gives the gateway's shared Redis connection at each call (it may throw while Redis
     *                       has never been reached)
     * @param prefix         {@code gateway.redis.key-prefix}
     * @param status         whether Redis answers
     * @param policy         what to do while it does not
     * @param leaseTtl       {@code gateway.quota.lease-ttl}
     * @param usageRetention {@code gateway.quota.usage-retention}
     * @param clock          the time source of every limit
     * @param meters         where the rate-limit and token counters go
     */
    public QuotaService(Supplier<StatefulRedisConnection<String, String>> connection, String prefix, RedisStatus status,
                        RedisOutagePolicy policy, Duration leaseTtl, Duration usageRetention, InstantSource clock,
                        MeterRegistry meters) {
        this.connection = Objects.requireNonNull(connection, "connection");
        this.prefix = Objects.requireNonNull(prefix, "prefix");
        this.status = Objects.requireNonNull(status, "status");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.leaseTtl = Objects.requireNonNull(leaseTtl, "leaseTtl");
        this.usageRetention = Objects.requireNonNull(usageRetention, "usageRetention");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.meters = Objects.requireNonNull(meters, "meters");
    }

    /**
     * Admits a request that reserves {@code reserveTokens} (prompt plus the most it may generate) against
     * every limit of the caller's tenant and key, atomically, or says which limit refuses it. Never fails
     * for a Redis outage (the policy decides); a 503 under {@code FAIL_CLOSED} comes as {@link Admission.Rejected}.
     */
    public Mono<Admission> admit(Caller caller, int reserveTokens) {
        if (reserveTokens < 0) {
            return Mono.error(new IllegalArgumentException("reserveTokens must be >= 0, got " + reserveTokens));
        }
        return Mono.defer(() -> {
            List<QuotaScope> scopes = QuotaScope.of(caller, prefix);
            Admission.Rejected tooLarge = neverFits(caller, scopes, reserveTokens);
            if (tooLarge != null) {
                return Mono.just(tooLarge);
            }
            Instant now = clock.instant();
            String day = day(now);
            String leaseId = ApiKeys.newLeaseId();
            if (!status.up()) {
                return Mono.just(duringOutage(caller, scopes, reserveTokens, now, day, leaseId));
            }
            if (scopes.isEmpty()) {
                return Mono.just(new Admission.Admitted(new Lease(this, caller, scopes, leaseId, reserveTokens, day,
                        Lease.Mode.REDIS), RateLimitHeaders.NONE));
            }
            List<String> args = new ArrayList<>(6 + 5 * scopes.size());
            long nowMs = now.toEpochMilli();
            args.add(Long.toString(nowMs));
            args.add(leaseId);
            args.add(Long.toString(nowMs + leaseTtl.toMillis()));
            args.add(Integer.toString(reserveTokens));
            args.add(day);
            args.add(Long.toString(msToMidnight(now)));
            for (QuotaScope scope : scopes) {
                Limits l = scope.limits();
                args.add(scope.base());
                args.add(Long.toString(QuotaScope.orZero(l.requestsPerMinute())));
                args.add(Long.toString(QuotaScope.orZero(l.tokensPerMinute())));
                args.add(Long.toString(QuotaScope.orZero(l.maxConcurrentStreams())));
                args.add(Long.toString(QuotaScope.orZero(l.dailyTokenBudget())));
            }
            return ADMIT.<List<Long>>run(connection, ScriptOutputType.MULTI, args.toArray(String[]::new))
                    .doOnNext(ok -> {
                        status.markUp();
                        if (localInUse) {
                            localInUse = false;
                            local.clear();
                        }
                    })
                    .map(reply -> toAdmission(caller, scopes, reserveTokens, day, leaseId, Decision.of(reply),
                            Lease.Mode.REDIS))
                    // the script may have run without its answer arriving: undo it if it did
                    .doOnCancel(() -> compensate(caller, scopes, leaseId, reserveTokens, day)
                            .subscribe(x -> { }, e -> { }))
                    .onErrorResume(RedisStatus::isOutage, e -> {
                        status.noteFailure(e);
                        compensate(caller, scopes, leaseId, reserveTokens, day).subscribe(x -> { }, x -> { });
                        return Mono.just(duringOutage(caller, scopes, reserveTokens, now, day, leaseId));
                    });
        });
    }

    /** The per-day usage of a tenant, today last, {@code days} days (today included). */
    public Mono<List<DayUsage>> usage(String tenantId, int days) {
        LocalDate today = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
        return Flux.range(0, days)
                .map(i -> today.minusDays(days - 1 - i))
                .flatMapSequential(date -> Mono.defer(() -> Mono.fromCompletionStage(
                                connection.get().async().hgetall(usageKey(tenantId, date.toString()))))
                        .map(h -> DayUsage.of(date, h)))
                .collectList()
                .doOnNext(ok -> status.markUp())
                .doOnError(status::noteFailure);
    }

    /**
     * The current state of a scope's limits without charging anything: for each set limit, its value and
     * what is used now (requests or tokens in the sliding minute, streams in flight, tokens today).
     */
    public Mono<Map<String, Object>> currentState(String tenantId, Limits limits) {
        if (limits.isEmpty()) {
            return Mono.just(Map.of());
        }
        Instant now = clock.instant();
        long nowMs = now.toEpochMilli();
        String base = prefix + "q:t:" + tenantId + ":";
        return Mono.defer(() -> Mono.fromCompletionStage(connection.get().async().mget(base + "rpm", base + "tpm",
                        base + "daily:" + day(now))))
                .zipWith(Mono.defer(() -> Mono.fromCompletionStage(connection.get().async().zcount(base + "streams",
                        Range.from(Range.Boundary.excluding(nowMs), Range.Boundary.unbounded())))))
                .map(t -> {
                    Map<String, Object> state = new LinkedHashMap<>();
                    if (limits.requestsPerMinute() != null) {
                        state.put("requests_per_minute", used(limits.requestsPerMinute(), t.getT1().get(0).getValueOrElse(null), nowMs));
                    }
                    if (limits.tokensPerMinute() != null) {
                        state.put("tokens_per_minute", used(limits.tokensPerMinute(), t.getT1().get(1).getValueOrElse(null), nowMs));
                    }
                    if (limits.maxConcurrentStreams() != null) {
                        state.put("max_concurrent_streams", Map.of("limit", limits.maxConcurrentStreams(),
                                "used", t.getT2()));
                    }
                    if (limits.dailyTokenBudget() != null) {
                        String v = t.getT1().get(2).getValueOrElse(null);
                        state.put("daily_token_budget", Map.of("limit", limits.dailyTokenBudget(),
                                "used", v == null ? 0L : Long.parseLong(v)));
                    }
                    return state;
                })
                .doOnNext(ok -> status.markUp())
                .doOnError(status::noteFailure);
    }

    private static Map<String, Object> used(long limit, String tat, long nowMs) {
        double interval = 60_000.0 / limit;
        double ahead = tat == null ? 0 : Math.max(0, Double.parseDouble(tat) - nowMs);
        return Map.of("limit", limit, "used", (long) Math.ceil(ahead / interval - 1e-6),
                "reset_ms", (long) Math.ceil(ahead));
    }

    Mono<Void> release(Lease lease, Usage usage) {
        Caller caller = lease.caller();
        count(caller.tenantId(), "total", usage.totalTokens());
        count(caller.tenantId(), "prompt", usage.promptTokens());
        count(caller.tenantId(), "completion", usage.completionTokens());
        count(caller.tenantId(), "cached", usage.cachedTokens());
        long delta = (long) usage.totalTokens() - lease.reservedTokens();
        Instant now = clock.instant();
        return switch (lease.mode()) {
            case UNENFORCED -> Mono.empty();
            case LOCAL -> Mono.fromRunnable(() -> local.release(lease.scopes(), now.toEpochMilli(), lease.leaseId(),
                    delta, lease.admitDay()));
            case REDIS -> {
                if (!status.up()) {
                    log.debug("lease {} of tenant {} not reconciled: Redis is down", lease.leaseId(), caller.tenantId());
                    yield Mono.empty();
                }
                List<String> args = new ArrayList<>(10 + 4 * lease.scopes().size());
                args.add(Long.toString(now.toEpochMilli()));
                args.add(lease.leaseId());
                args.add(Long.toString(delta));
                args.add(usageKey(caller.tenantId(), day(now)));
                args.add(Long.toString(usageRetention.toSeconds()));
                args.add(Integer.toString(usage.promptTokens()));
                args.add(Integer.toString(usage.completionTokens()));
                args.add(Integer.toString(usage.cachedTokens()));
                args.add(Integer.toString(usage.totalTokens()));
                args.add("0");
                for (QuotaScope scope : lease.scopes()) {
                    Limits l = scope.limits();
                    args.add(scope.base());
                    args.add(Long.toString(QuotaScope.orZero(l.tokensPerMinute())));
                    args.add(l.maxConcurrentStreams() != null ? "1" : "0");
                    args.add(l.dailyTokenBudget() != null ? scope.base() + "daily:" + lease.admitDay() : "");
                }
                yield RELEASE.<Long>run(connection, ScriptOutputType.INTEGER, args.toArray(String[]::new))
                        .doOnNext(ok -> status.markUp())
                        .onErrorResume(e -> {
                            status.noteFailure(e);
                            if (!RedisStatus.isOutage(e)) {
                                log.warn("lease {} of tenant {} not reconciled in Redis ({}); its slot expires with "
                                        + "the lease TTL", lease.leaseId(), caller.tenantId(), e.toString());
                            }
                            return Mono.empty();
                        })
                        .then();
            }
        };
    }

    /**
     * Undoes an admission whose answer was lost (the caller went away, or the command timed out after
     * Redis may have run it): frees its stream slot and refunds its whole reservation, if and only if
     * the admit script recorded the lease. Fire and forget; if Redis cannot be reached the slot expires
     * with the lease TTL.
     */
    Mono<Long> compensate(Caller caller, List<QuotaScope> scopes, String leaseId, int reservedTokens, String day) {
        List<String> args = new ArrayList<>(10 + 4 * scopes.size());
        args.add(Long.toString(clock.millis()));
        args.add(leaseId);
        args.add(Long.toString(-(long) reservedTokens));
        args.add(usageKey(caller.tenantId(), day));
        args.add(Long.toString(usageRetention.toSeconds()));
        args.addAll(List.of("0", "0", "0", "0", "1"));
        for (QuotaScope scope : scopes) {
            Limits l = scope.limits();
            args.add(scope.base());
            args.add(Long.toString(QuotaScope.orZero(l.tokensPerMinute())));
            args.add(l.maxConcurrentStreams() != null ? "1" : "0");
            args.add(l.dailyTokenBudget() != null ? scope.base() + "daily:" + day : "");
        }
        return RELEASE.<Long>run(connection, ScriptOutputType.INTEGER, args.toArray(String[]::new))
                .doOnNext(undone -> log.debug("lease {}: lost admission {}", leaseId,
                        undone == 1 ? "undone" : "never happened"))
                .doOnError(e -> log.debug("lease {}: lost admission not undone ({}); it expires with the lease TTL",
                        leaseId, e.toString()));
    }

    private Admission duringOutage(Caller caller, List<QuotaScope> scopes, int reserveTokens, Instant now, String day,
                                   String leaseId) {
        return switch (policy) {
            case FAIL_CLOSED -> new Admission.Rejected(OpenAiException.unavailable("The gateway cannot enforce quotas "
                    + "right now (its quota store is unreachable; policy FAIL_CLOSED). Please retry in 5s.",
                    Duration.ofSeconds(5)), RateLimitHeaders.NONE);
            case FAIL_OPEN -> new Admission.Admitted(new Lease(this, caller, scopes, leaseId, reserveTokens, day,
                    Lease.Mode.UNENFORCED), RateLimitHeaders.NONE);
            case CACHED_KEYS -> {
                localInUse = true;
                long nowMs = now.toEpochMilli();
                Decision d = local.admit(scopes, nowMs, leaseId, nowMs + leaseTtl.toMillis(), reserveTokens, day,
                        msToMidnight(now));
                yield toAdmission(caller, scopes, reserveTokens, day, leaseId, d, Lease.Mode.LOCAL);
            }
        };
    }

    private Admission toAdmission(Caller caller, List<QuotaScope> scopes, int reserveTokens, String day,
                                  String leaseId, Decision d, Lease.Mode mode) {
        if (d.admitted()) {
            return new Admission.Admitted(new Lease(this, caller, scopes, leaseId, reserveTokens, day, mode),
                    d.headers());
        }
        QuotaScope scope = scopes.get(d.scopeIndex());
        LimitKind kind = d.kind();
        Duration retryAfter = Duration.ofSeconds(Math.max(1, (d.retryMs() + 999) / 1000));
        String wait = RateLimitHeaders.format(Duration.ofMillis(Math.max(1, d.retryMs())));
        String message = switch (kind) {
            case RPM -> "Rate limit reached for " + scope.label() + " on " + kind.description() + ": Limit " + d.limit()
                    + ", Used " + d.used() + ", Requested 1. Please try again in " + wait + ".";
            case TPM -> "Rate limit reached for " + scope.label() + " on " + kind.description() + ": Limit " + d.limit()
                    + ", Used " + d.used() + ", Requested " + reserveTokens + ". Please try again in " + wait + ".";
            case CONCURRENCY -> "Concurrency limit reached for " + scope.label() + " on " + kind.description()
                    + ": Limit " + d.limit() + ", In flight " + d.used() + ". Please try again when a request finishes.";
            case DAILY -> "You exceeded the " + kind.description() + " of " + scope.label() + ": Limit " + d.limit()
                    + ", Used " + d.used() + ", Requested " + reserveTokens + ". It resets at 00:00 UTC, in " + wait
                    + ".";
        };
        String code = kind == LimitKind.DAILY ? "insufficient_quota" : "rate_limit_exceeded";
        rateLimited(caller.tenantId(), kind);
        return new Admission.Rejected(new OpenAiException(429, new OpenAiError(message, kind.errorType(), null, code),
                kind == LimitKind.CONCURRENCY ? CONCURRENCY_RETRY : retryAfter), d.headers());
    }

    private Admission.Rejected neverFits(Caller caller, List<QuotaScope> scopes, int reserveTokens) {
        for (QuotaScope scope : scopes) {
            Long tpm = scope.limits().tokensPerMinute();
            Long budget = scope.limits().dailyTokenBudget();
            LimitKind kind = tpm != null && reserveTokens > tpm ? LimitKind.TPM
                    : budget != null && reserveTokens > budget ? LimitKind.DAILY : null;
            if (kind != null) {
                long limit = kind == LimitKind.TPM ? tpm : budget;
                rateLimited(caller.tenantId(), kind);
                return new Admission.Rejected(new OpenAiException(429, new OpenAiError("Request too large for "
                        + scope.label() + " on " + kind.description() + ": Limit " + limit + ", Requested "
                        + reserveTokens + ". The input or output tokens must be reduced in order to run successfully.",
                        kind.errorType(), null, kind == LimitKind.DAILY ? "insufficient_quota" : "rate_limit_exceeded"),
                        null), RateLimitHeaders.NONE);
            }
        }
        return null;
    }

    private void rateLimited(String tenantId, LimitKind kind) {
        Counter.builder("kvserve_gateway_rate_limited_total").tag("tenant", tenantId).tag("limit", kind.tag())
                .register(meters).increment();
    }

    private void count(String tenantId, String kind, int tokens) {
        if (tokens > 0 || "total".equals(kind)) {
            Counter.builder("kvserve_gateway_tenant_tokens_total").tag("tenant", tenantId).tag("kind", kind)
                    .register(meters).increment(tokens);
        }
    }

    private String usageKey(String tenantId, String day) {
        return prefix + "usage:" + tenantId + ":" + day;
    }

    private static String day(Instant now) {
        return LocalDate.ofInstant(now, ZoneOffset.UTC).toString();
    }

    private static long msToMidnight(Instant now) {
        Instant midnight = LocalDate.ofInstant(now, ZoneOffset.UTC).plusDays(1).atStartOfDay(ZoneOffset.UTC).toInstant();
        return Duration.between(now, midnight).toMillis();
    }
}
