package io.kvserve.scheduler.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AdmissionQueueTest {

    private static final long NEVER = Long.MAX_VALUE / 4;

    private static QueuedRequest<String> req(String tenant, long enqueuedMs, double hitRate, int uncached, String payload) {
        return new QueuedRequest<>(tenant, enqueuedMs, hitRate, uncached, payload);
    }

    @Test
    void poll_weights1to2_sharesWithinOneRequestAtEveryPoint() {
        AdmissionQueue<String> queue = new AdmissionQueue<>(new AdmissionQueue.Config(100, 50, NEVER, 100, 1),
                tenant -> tenant.equals("b") ? 2.0 : 1.0);
        for (int i = 0; i < 10; i++) {
            queue.offer(req("a", 0, 0.0, 100, "a"));
            queue.offer(req("b", 0, 0.0, 100, "b"));
        }
        int servedA = 0;
        int servedB = 0;
        for (int n = 1; n <= 3000; n++) {
            String tenant = queue.poll(0).orElseThrow().tenantId();
            if (tenant.equals("a")) {
                servedA++;
            } else {
                servedB++;
            }
            assertThat(queue.offer(req(tenant, 0, 0.0, 100, tenant))).isTrue();
            assertThat(Math.abs(3.0 * servedA - n)).as("a's share after %d polls", n).isLessThanOrEqualTo(3.0);
        }
        assertThat(servedA).isBetween(999, 1001);
        assertThat(servedB).isBetween(1999, 2001);
    }

    @Test
    void poll_tenantWhoseRequestsAreAllHits_getsMoreRequestsThroughForTheSameTokens() {
        // quantum 2048: a pays the 16-token minimum per full hit, b pays 2048 uncached tokens per request
        AdmissionQueue<String> queue = new AdmissionQueue<>(new AdmissionQueue.Config(1000, 500, NEVER, 2048, 16));
        for (int i = 0; i < 300; i++) {
            queue.offer(req("a", 0, 1.0, 0, "a"));
        }
        for (int i = 0; i < 5; i++) {
            queue.offer(req("b", 0, 0.0, 2048, "b"));
        }
        int servedA = 0;
        int servedB = 0;
        for (int n = 0; n < 258; n++) {
            if (queue.poll(0).orElseThrow().tenantId().equals("a")) {
                servedA++;
            } else {
                servedB++;
            }
        }
        assertThat(servedA).isEqualTo(256);
        assertThat(servedB).isEqualTo(2);
        assertThat(servedA * 16).isEqualTo(servedB * 2048);
    }

    @Test
    void poll_oneTenant_highestExpectedHitRateFirstThenArrival() {
        AdmissionQueue<String> queue = new AdmissionQueue<>(new AdmissionQueue.Config(10, 10, NEVER, 2048, 16));
        queue.offer(req("t", 0, 0.1, 900, "cold"));
        queue.offer(req("t", 1, 0.9, 100, "warm-1"));
        queue.offer(req("t", 2, 0.5, 500, "half"));
        queue.offer(req("t", 3, 0.9, 100, "warm-2"));

        List<String> order = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            order.add(queue.poll(10).orElseThrow().payload());
        }

        assertThat(order).containsExactly("warm-1", "warm-2", "half", "cold");
        assertThat(queue.poll(10)).isEmpty();
    }

    @Test
    void poll_lowHitUnderStreamOfHighHits_servedWithinMaxWait() {
        long maxWaitMs = 1000;
        long tickMs = 10;
        AdmissionQueue<String> queue = new AdmissionQueue<>(new AdmissionQueue.Config(100, 100, maxWaitMs, 2048, 16));
        queue.offer(req("t", 0, 0.0, 2000, "cold"));
        long servedAt = -1;
        for (long now = tickMs; now <= 5000 && servedAt < 0; now += tickMs) {
            queue.offer(req("t", now, 0.95, 50, "warm"));
            if (queue.poll(now).orElseThrow().payload().equals("cold")) {
                servedAt = now;
            }
        }

        // hit-first holds it back until it is overdue, aging then serves it at the next poll
        assertThat(servedAt).isGreaterThan(maxWaitMs).isLessThanOrEqualTo(maxWaitMs + tickMs);
    }

    @Test
    void poll_lowWeightTenantUnderHeavyTenant_servedWithinMaxWait() {
        AdmissionQueue<String> queue = new AdmissionQueue<>(new AdmissionQueue.Config(1000, 1000, 200, 100, 1),
                tenant -> tenant.equals("light") ? 0.001 : 1.0);
        queue.offer(req("light", 0, 0.0, 100_000, "light"));
        long servedAt = -1;
        for (long now = 1; now <= 1000 && servedAt < 0; now++) {
            queue.offer(req("heavy", now, 0.5, 100, "heavy"));
            if (queue.poll(now).orElseThrow().payload().equals("light")) {
                servedAt = now;
            }
        }

        assertThat(servedAt).isEqualTo(201);
    }

    @Test
    void poll_overdueRequest_servedFirstAndChargedToItsTenantsNextTurn() {
        AdmissionQueue<String> queue = new AdmissionQueue<>(new AdmissionQueue.Config(10, 10, 1000, 100, 1));
        queue.offer(req("a", 0, 0.0, 100, "a-old"));
        queue.offer(req("a", 500, 0.9, 100, "a-new"));
        queue.offer(req("b", 500, 0.0, 100, "b-1"));
        queue.offer(req("b", 500, 0.0, 100, "b-2"));

        List<String> order = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            order.add(queue.poll(1001).orElseThrow().payload());
        }

        // a-old is overdue (waited 1001 > 1000 ms); a then owes 100 tokens, so b is served before a-new
        assertThat(order).containsExactly("a-old", "b-1", "a-new", "b-2");
    }

    @Test
    void poll_requestFarLargerThanTheQuantum_servedAfterSkippedRounds() {
        AdmissionQueue<String> queue = new AdmissionQueue<>(new AdmissionQueue.Config(10, 10, NEVER, 16, 16));
        queue.offer(req("a", 0, 0.0, 1_000_000, "huge"));
        queue.offer(req("b", 0, 0.0, 16, "small"));

        assertThat(queue.poll(0).orElseThrow().payload()).isEqualTo("small");
        assertThat(queue.poll(0).orElseThrow().payload()).isEqualTo("huge");
        assertThat(queue.size()).isZero();
    }

    @Test
    void offer_beyondCapacityOrTenantShare_returnsFalse() {
        AdmissionQueue<String> queue = new AdmissionQueue<>(new AdmissionQueue.Config(3, 2, NEVER, 2048, 16));

        assertThat(queue.offer(req("a", 0, 0.0, 10, "a1"))).isTrue();
        assertThat(queue.offer(req("a", 0, 0.0, 10, "a2"))).isTrue();
        assertThat(queue.offer(req("a", 0, 0.0, 10, "a3"))).isFalse();
        assertThat(queue.offer(req("b", 0, 0.0, 10, "b1"))).isTrue();
        assertThat(queue.offer(req("c", 0, 0.0, 10, "c1"))).isFalse();

        assertThat(queue.size()).isEqualTo(3);
        assertThat(queue.size("a")).isEqualTo(2);
        assertThat(queue.size("c")).isZero();
        queue.poll(0);
        assertThat(queue.offer(req("c", 0, 0.0, 10, "c1"))).isTrue();
    }

    @Test
    void oldestWaitMs_tracksTheOldestQueuedRequest() {
        AdmissionQueue<String> queue = new AdmissionQueue<>(new AdmissionQueue.Config(10, 10, NEVER, 2048, 16));
        assertThat(queue.oldestWaitMs(400)).isZero();

        queue.offer(req("a", 100, 0.0, 10, "old"));
        queue.offer(req("a", 250, 0.9, 10, "new"));

        assertThat(queue.oldestWaitMs(400)).isEqualTo(300);
        assertThat(queue.poll(400).orElseThrow().payload()).isEqualTo("new");
        assertThat(queue.oldestWaitMs(400)).isEqualTo(300);
        assertThat(queue.poll(400).orElseThrow().payload()).isEqualTo("old");
        assertThat(queue.oldestWaitMs(400)).isZero();
    }
}
