package io.kvserve.gateway.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.kvserve.common.openai.OpenAiException;
import io.kvserve.gateway.tenant.Caller;
import io.kvserve.gateway.tenant.Limits;
import io.kvserve.gateway.tenant.MutableClock;
import io.kvserve.gateway.tenant.RedisOutagePolicy;
import io.kvserve.gateway.tenant.RedisStatus;
import io.kvserve.gateway.tenant.Scope;
import io.kvserve.gateway.tenant.TenancyTestRedis;
import io.kvserve.testsupport.redis.RealRedis;
import io.kvserve.testsupport.redis.RedisEndpoint;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import reactor.core.publisher.Mono;

@RealRedis
class QuotaServiceTest {

    private TenancyTestRedis redis;
    private MutableClock clock;
    private SimpleMeterRegistry meters;
    private QuotaService quotas;

    @BeforeEach
    void setUp(RedisEndpoint endpoint, TestInfo info) {
        redis = new TenancyTestRedis(endpoint, info.getTestMethod().orElseThrow().getName());
        clock = MutableClock.at("2026-11-22T10:00:00Z");
        meters = new SimpleMeterRegistry();
        quotas = service(redis.connection, redis.status, RedisOutagePolicy.CACHED_KEYS);
    }

    @AfterEach
    void tearDown() {
        redis.close();
    }

    private QuotaService service(StatefulRedisConnection<String, String> connection, RedisStatus status,
                                 RedisOutagePolicy policy) {
        return new QuotaService(() -> connection, redis.prefix, status, policy, Duration.ofMinutes(15), Duration.ofDays(35),
                clock, meters);
    }

    private static Caller caller(Limits tenant, Limits key) {
        return new Caller("acme", "key_test", "ci", Scope.all(), 1, tenant, key);
    }

    private static Admission.Admitted admitted(Admission a) {
        assertThat(a).as("admission").isInstanceOf(Admission.Admitted.class);
        return (Admission.Admitted) a;
    }

    private static OpenAiException rejected(Admission a) {
        assertThat(a).as("admission").isInstanceOf(Admission.Rejected.class);
        return ((Admission.Rejected) a).error();
    }

    private double rateLimited(String limit) {
        var counter = meters.find("kvserve_gateway_rate_limited_total").tags("tenant", "acme", "limit", limit).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void admit_rpm3FourthInSameMinute_rejectedWithRetryAfter20sAndHeaders() {
        Caller c = caller(new Limits(3L, null, null, null), Limits.NONE);

        RateLimitHeaders first = admitted(quotas.admit(c, 10).block()).headers();
        assertThat(first).isEqualTo(new RateLimitHeaders(3L, 2L, Duration.ofSeconds(20), null, null, null));
        admitted(quotas.admit(c, 10).block());
        RateLimitHeaders third = admitted(quotas.admit(c, 10).block()).headers();
        assertThat(third).isEqualTo(new RateLimitHeaders(3L, 0L, Duration.ofSeconds(60), null, null, null));

        Admission fourth = quotas.admit(c, 10).block();

        OpenAiException e = rejected(fourth);
        assertThat(e.status()).isEqualTo(429);
        assertThat(e.retryAfter()).contains(Duration.ofSeconds(20));
        assertThat(e.error().type()).isEqualTo("requests");
        assertThat(e.error().code()).isEqualTo("rate_limit_exceeded");
        assertThat(e.error().message()).isEqualTo("Rate limit reached for tenant acme on requests per min (RPM): "
                + "Limit 3, Used 3, Requested 1. Please try again in 20s.");
        assertThat(fourth.headers()).isEqualTo(new RateLimitHeaders(3L, 0L, Duration.ofSeconds(60), null, null, null));
        assertThat(rateLimited("rpm")).isEqualTo(1);

        clock.advance(Duration.ofMillis(19_999));
        assertThat(quotas.admit(c, 10).block()).isInstanceOf(Admission.Rejected.class);
        clock.advance(Duration.ofMillis(1));
        assertThat(admitted(quotas.admit(c, 10).block()).headers().remainingRequests()).isZero();
    }

    @Test
    void admit_burstOfExactlyTheLimit_passes_evenWhenTheIntervalIsNotAWholeMillisecond() {
        for (long limit : new long[] {7, 9, 13, 97, 199, 1999}) {
            Caller c = new Caller("burst-" + limit, "key_b" + limit, "ci", Scope.all(), 1,
                    new Limits(limit, null, null, null), Limits.NONE);
            for (int i = 0; i < limit; i++) {
                Admission a = quotas.admit(c, 1).block();
                assertThat(a).as("request %d of a burst of %d", i + 1, limit).isInstanceOf(Admission.Admitted.class);
            }
            assertThat(rejected(quotas.admit(c, 1).block()).status()).as("one past RPM %d", limit).isEqualTo(429);

            LocalQuota local = new LocalQuota();
            List<QuotaScope> scopes = QuotaScope.of(c, "local:");
            long now = clock.millis();
            for (int i = 0; i < limit; i++) {
                assertThat(local.admit(scopes, now, "l" + i, now + 60_000, 1, "2026-11-22", 1000).admitted())
                        .as("in memory: request %d of a burst of %d", i + 1, limit).isTrue();
            }
            assertThat(local.admit(scopes, now, "over", now + 60_000, 1, "2026-11-22", 1000).admitted()).isFalse();
        }
    }

    @Test
    void compensate_undoesALostAdmissionOnlyIfItHappened() {
        Caller c = caller(new Limits(null, 1000L, 1L, null), Limits.NONE);
        List<QuotaScope> scopes = QuotaScope.of(c, redis.prefix);

        assertThat(quotas.compensate(c, scopes, "lease_never", 800, "2026-11-22").block())
                .as("never admitted: nothing to undo, nothing refunded").isZero();
        Admission.Admitted lost = admitted(quotas.admit(c, 800).block());
        assertThat(rejected(quotas.admit(c, 100).block()).error().type()).as("its stream slot is held")
                .isEqualTo("requests");

        assertThat(quotas.compensate(c, scopes, lost.lease().leaseId(), 800, "2026-11-22").block()).isEqualTo(1);
        assertThat(quotas.compensate(c, scopes, lost.lease().leaseId(), 800, "2026-11-22").block())
                .as("undone once").isZero();
        assertThat(admitted(quotas.admit(c, 1000).block()).headers().remainingTokens())
                .as("slot freed, all 800 refunded: a full minute's 1000 fit").isZero();
    }

    @Test
    void admit_tpmReleaseWithFewerTokens_refundsSoThatALaterRequestFits() {
        Caller c = caller(new Limits(null, 1000L, null, null), Limits.NONE);
        Admission.Admitted first = admitted(quotas.admit(c, 800).block());
        assertThat(first.headers()).isEqualTo(new RateLimitHeaders(null, null, null, 1000L, 200L, Duration.ofMillis(48_000)));

        OpenAiException e = rejected(quotas.admit(c, 800).block());
        assertThat(e.error().type()).isEqualTo("tokens");
        assertThat(e.error().message()).isEqualTo("Rate limit reached for tenant acme on tokens per min (TPM): "
                + "Limit 1000, Used 800, Requested 800. Please try again in 36s.");
        assertThat(e.retryAfter()).contains(Duration.ofSeconds(36));

        first.lease().release(100).block();

        Admission.Admitted second = admitted(quotas.admit(c, 800).block());
        assertThat(second.headers().remainingTokens()).isEqualTo(100);
    }

    @Test
    void release_moreTokensThanReserved_chargesTheDifference() {
        Caller c = caller(new Limits(null, 1000L, null, null), Limits.NONE);
        admitted(quotas.admit(c, 100).block()).lease().release(600).block();

        assertThat(rejected(quotas.admit(c, 500).block()).error().message()).contains("Used 600, Requested 500");
        assertThat(admitted(quotas.admit(c, 400).block()).headers().remainingTokens()).isZero();
    }

    @Test
    void admit_concurrency2_thirdRejectedUntilALeaseIsReleased() {
        Caller c = caller(new Limits(null, null, 2L, null), Limits.NONE);
        Lease a = admitted(quotas.admit(c, 0).block()).lease();
        admitted(quotas.admit(c, 0).block());

        OpenAiException e = rejected(quotas.admit(c, 0).block());
        assertThat(e.status()).isEqualTo(429);
        assertThat(e.retryAfter()).contains(Duration.ofSeconds(1));
        assertThat(e.error().message()).isEqualTo("Concurrency limit reached for tenant acme on concurrent streams: "
                + "Limit 2, In flight 2. Please try again when a request finishes.");
        assertThat(rateLimited("concurrency")).isEqualTo(1);

        a.release(0).block();

        admitted(quotas.admit(c, 0).block());
    }

    @Test
    void release_twice_countsOnce() {
        Caller c = caller(new Limits(null, 1000L, 2L, null), Limits.NONE);
        Lease lease = admitted(quotas.admit(c, 500).block()).lease();
        Lease other = admitted(quotas.admit(c, 0).block()).lease();

        lease.release(Usage.of(100, 50, 20)).block();
        lease.release(Usage.of(100, 50, 20)).block();
        lease.release(0).block();

        assertThat(lease.released()).isTrue();
        List<DayUsage> usage = quotas.usage("acme", 1).block();
        assertThat(usage).containsExactly(new DayUsage(java.time.LocalDate.parse("2026-11-22"), 1, 100, 50, 20, 150));
        // one refund of 350: 150 tokens are in the window
        assertThat(admitted(quotas.admit(c, 850).block()).headers().remainingTokens()).isZero();
        assertThat(meters.find("kvserve_gateway_tenant_tokens_total").tags("tenant", "acme", "kind", "prompt").counter()
                .count()).isEqualTo(100);
        other.release(0).block();
    }

    @Test
    void release_concurrentlyFromCancelErrorAndCompletion_countsOnce() {
        Caller c = caller(new Limits(null, null, 1L, null), Limits.NONE);
        Lease lease = admitted(quotas.admit(c, 10).block()).lease();
        List<Mono<Void>> releases = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            releases.add(lease.release(10).subscribeOn(reactor.core.scheduler.Schedulers.parallel()));
        }

        Mono.when(releases).block();

        assertThat(quotas.usage("acme", 1).block().getFirst().requests()).isEqualTo(1);
        assertThat(redis.connection.sync().zcard(redis.prefix + "q:t:acme:streams")).isZero();
    }

    @Test
    void admit_leaseNeverReleased_purgedAfterTheLeaseTtl() {
        Caller c = caller(new Limits(null, null, 1L, null), Limits.NONE);
        Lease lost = admitted(quotas.admit(c, 0).block()).lease();
        rejected(quotas.admit(c, 0).block());
        String streams = redis.prefix + "q:t:acme:streams";
        assertThat(redis.connection.sync().zrange(streams, 0, -1)).containsExactly(lost.leaseId());

        clock.advance(Duration.ofMinutes(15));

        Lease next = admitted(quotas.admit(c, 0).block()).lease();
        assertThat(redis.connection.sync().zrange(streams, 0, -1)).containsExactly(next.leaseId());
    }

    @Test
    void admit_dailyBudget_rejectsUntilMidnightUtcThenAdmits() {
        clock = MutableClock.at("2026-11-22T23:00:00Z");
        quotas = service(redis.connection, redis.status, RedisOutagePolicy.CACHED_KEYS);
        Caller c = caller(new Limits(null, null, null, 1000L), Limits.NONE);
        admitted(quotas.admit(c, 600).block()).lease().release(600).block();

        OpenAiException e = rejected(quotas.admit(c, 600).block());

        assertThat(e.status()).isEqualTo(429);
        assertThat(e.error().type()).isEqualTo("insufficient_quota");
        assertThat(e.error().code()).isEqualTo("insufficient_quota");
        assertThat(e.retryAfter()).contains(Duration.ofHours(1));
        assertThat(e.error().message()).isEqualTo("You exceeded the daily token budget of tenant acme: Limit 1000, "
                + "Used 600, Requested 600. It resets at 00:00 UTC, in 1h0m0s.");
        admitted(quotas.admit(c, 400).block());
        assertThat(rateLimited("daily")).isEqualTo(1);

        clock.advance(Duration.ofHours(1));
        admitted(quotas.admit(c, 600).block());
    }

    @Test
    void admit_keyLimitTighterThanTenant_keyLimitRejectsAndSaysSo() {
        Caller c = caller(new Limits(100L, 100_000L, null, null), new Limits(1L, null, null, null));
        RateLimitHeaders headers = admitted(quotas.admit(c, 10).block()).headers();
        assertThat(headers.limitRequests()).isEqualTo(1);
        assertThat(headers.remainingRequests()).isZero();
        assertThat(headers.limitTokens()).isEqualTo(100_000);

        OpenAiException e = rejected(quotas.admit(c, 10).block());

        assertThat(e.error().message()).startsWith("Rate limit reached for key key_test of tenant acme on requests "
                + "per min (RPM): Limit 1, Used 1");
        assertThat(e.retryAfter()).contains(Duration.ofSeconds(60));
    }

    @Test
    void admit_rejected_chargesNothing() {
        Caller c = caller(new Limits(null, 1000L, 5L, 10_000L), new Limits(1L, null, null, null));
        admitted(quotas.admit(c, 100).block());
        var sync = redis.connection.sync();
        String tenantTpm = redis.prefix + "q:t:acme:tpm";
        String daily = redis.prefix + "q:t:acme:daily:2026-11-22";
        String streams = redis.prefix + "q:t:acme:streams";
        String tpmBefore = sync.get(tenantTpm);

        rejected(quotas.admit(c, 500).block());

        assertThat(sync.get(tenantTpm)).isEqualTo(tpmBefore);
        assertThat(sync.get(daily)).isEqualTo("100");
        assertThat(sync.zcard(streams)).isEqualTo(1);
    }

    @Test
    void admit_reservationAboveTheTokenLimit_rejectedAsNeverFittingWithoutRetryAfter() {
        Caller c = caller(new Limits(null, 1000L, null, null), Limits.NONE);

        OpenAiException e = rejected(quotas.admit(c, 1001).block());

        assertThat(e.status()).isEqualTo(429);
        assertThat(e.retryAfter()).isEmpty();
        assertThat(e.error().message()).isEqualTo("Request too large for tenant acme on tokens per min (TPM): "
                + "Limit 1000, Requested 1001. The input or output tokens must be reduced in order to run successfully.");
        assertThat(redis.keys()).isEmpty();
    }

    @Test
    void admit_twoReplicasOnOneRedis_shareTheLimits() {
        QuotaService other = service(redis.newConnection(), new RedisStatus(redis.connection), RedisOutagePolicy.CACHED_KEYS);
        Caller c = caller(new Limits(2L, null, null, null), Limits.NONE);

        admitted(quotas.admit(c, 1).block());
        admitted(other.admit(c, 1).block());

        assertThat(rejected(quotas.admit(c, 1).block()).retryAfter()).contains(Duration.ofSeconds(30));
        assertThat(rejected(other.admit(c, 1).block()).retryAfter()).contains(Duration.ofSeconds(30));
    }

    @Test
    void admit_concurrentCallsFromTwoReplicas_admitExactlyTheLimit() {
        QuotaService other = service(redis.newConnection(), new RedisStatus(redis.connection), RedisOutagePolicy.CACHED_KEYS);
        Caller c = caller(new Limits(50L, null, null, null), Limits.NONE);
        List<Mono<Admission>> calls = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            calls.add((i % 2 == 0 ? quotas : other).admit(c, 1));
        }

        List<Admission> all = reactor.core.publisher.Flux.merge(calls).collectList().block();

        assertThat(all.stream().filter(a -> a instanceof Admission.Admitted).count()).isEqualTo(50);
    }

    @Test
    void admit_noLimits_admitsWithoutHeadersAndRecordsUsageOnRelease() {
        Caller c = caller(Limits.NONE, Limits.NONE);
        Admission.Admitted a = admitted(quotas.admit(c, 100).block());
        assertThat(a.headers()).isEqualTo(RateLimitHeaders.NONE);

        a.lease().release(42).block();

        assertThat(quotas.usage("acme", 2).block()).containsExactly(
                new DayUsage(java.time.LocalDate.parse("2026-11-21"), 0, 0, 0, 0, 0),
                new DayUsage(java.time.LocalDate.parse("2026-11-22"), 1, 0, 0, 0, 42));
        assertThat(redis.connection.sync().ttl(redis.prefix + "usage:acme:2026-11-22"))
                .isBetween(Duration.ofDays(35).toSeconds() - 5, Duration.ofDays(35).toSeconds());
    }

    @Test
    void currentState_afterAdmissions_reportsUsedPerLimit() {
        Limits limits = new Limits(3L, 1000L, 2L, 5000L);
        Caller c = caller(limits, Limits.NONE);
        admitted(quotas.admit(c, 300).block());

        Map<String, Object> state = quotas.currentState("acme", limits).block();

        assertThat(state).containsEntry("requests_per_minute", Map.of("limit", 3L, "used", 1L, "reset_ms", 20_000L))
                .containsEntry("tokens_per_minute", Map.of("limit", 1000L, "used", 300L, "reset_ms", 18_000L))
                .containsEntry("max_concurrent_streams", Map.of("limit", 2L, "used", 1L))
                .containsEntry("daily_token_budget", Map.of("limit", 5000L, "used", 300L));
    }

    // ---- Redis outage: a replica on a connection the test closes

    @Test
    void admit_redisDownCachedKeys_enforcesTheSameLimitsLocally() {
        StatefulRedisConnection<String, String> connection = redis.newConnection();
        RedisStatus status = new RedisStatus(connection);
        QuotaService replica = service(connection, status, RedisOutagePolicy.CACHED_KEYS);
        Caller c = caller(new Limits(3L, null, 1L, null), Limits.NONE);
        connection.close();

        Lease first = admitted(replica.admit(c, 10).block()).lease();
        assertThat(status.up()).isFalse();
        OpenAiException busy = rejected(replica.admit(c, 10).block());
        assertThat(busy.error().message()).startsWith("Concurrency limit reached");
        first.release(10).block();
        admitted(replica.admit(c, 10).block()).lease().release(10).block();
        admitted(replica.admit(c, 10).block()).lease().release(10).block();

        OpenAiException e = rejected(replica.admit(c, 10).block());

        assertThat(e.retryAfter()).contains(Duration.ofSeconds(20));
        assertThat(e.error().message()).startsWith("Rate limit reached for tenant acme on requests per min (RPM)");
    }

    @Test
    void admit_redisDownFailOpen_admitsWithoutLimits() {
        StatefulRedisConnection<String, String> connection = redis.newConnection();
        RedisStatus status = new RedisStatus(connection);
        QuotaService replica = service(connection, status, RedisOutagePolicy.FAIL_OPEN);
        Caller c = caller(new Limits(1L, null, null, null), Limits.NONE);
        connection.close();

        for (int i = 0; i < 5; i++) {
            Admission.Admitted a = admitted(replica.admit(c, 10).block());
            assertThat(a.headers()).isEqualTo(RateLimitHeaders.NONE);
            a.lease().release(10).block();
        }
    }

    @Test
    void admit_redisDownFailClosed_rejectsWith503() {
        StatefulRedisConnection<String, String> connection = redis.newConnection();
        RedisStatus status = new RedisStatus(connection);
        QuotaService replica = service(connection, status, RedisOutagePolicy.FAIL_CLOSED);
        Caller c = caller(new Limits(100L, null, null, null), Limits.NONE);
        connection.close();

        OpenAiException e = rejected(replica.admit(c, 10).block());

        assertThat(e.status()).isEqualTo(503);
        assertThat(e.error().type()).isEqualTo("service_unavailable");
        assertThat(e.retryAfter()).contains(Duration.ofSeconds(5));
    }

    @Test
    void release_redisGoneAfterAdmit_completesWithoutError() {
        StatefulRedisConnection<String, String> connection = redis.newConnection();
        RedisStatus status = new RedisStatus(connection);
        QuotaService replica = service(connection, status, RedisOutagePolicy.CACHED_KEYS);
        Lease lease = admitted(replica.admit(caller(new Limits(5L, null, 1L, null), Limits.NONE), 10).block()).lease();
        connection.close();

        lease.release(10).block();

        assertThat(lease.released()).isTrue();
        assertThat(status.up()).isFalse();
    }
}
