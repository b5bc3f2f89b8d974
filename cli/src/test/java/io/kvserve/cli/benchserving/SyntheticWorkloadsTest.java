package io.kvserve.cli.benchserving;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SyntheticWorkloadsTest {

    static final List<String> TENANTS = List.of("acme", "globex", "initech");

    static SharedPrefixWorkload sharedPrefix(long seed) {
        return new SharedPrefixWorkload(seed, TENANTS, 64, 100, 200, 8, 16);
    }

    static String system(BenchRequest r) {
        return r.messages().get(0).content();
    }

    static int commonPrefixLength(String a, String b) {
        int n = 0;
        while (n < a.length() && n < b.length() && a.charAt(n) == b.charAt(n)) {
            n++;
        }
        return n;
    }

    @Test
    void sharedPrefix_sameSeed_sameRequests_otherSeed_otherRequests() {
        for (int i = 0; i < 20; i++) {
            assertThat(sharedPrefix(7).request(i)).isEqualTo(sharedPrefix(7).request(i));
        }
        assertThat(sharedPrefix(7).request(0).messages()).isNotEqualTo(sharedPrefix(8).request(0).messages());
    }

    @Test
    void sharedPrefix_tenantPrompts_shareExactlyTheirPrefix() {
        SharedPrefixWorkload w = sharedPrefix(1);
        String published = w.publishedPrefix();
        assertThat(published.split(" ")).hasSize(64);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 60; i++) {
            BenchRequest a = w.request(i);
            seen.add(a.tenant());
            assertThat(system(a)).startsWith(published + " Tenant " + a.tenant() + ". ").isEqualTo(w.systemMessage(a.tenant()));
            assertThat(a.messages().get(1).role()).isEqualTo("user");
            for (int j = i + 1; j < 60; j++) {
                BenchRequest b = w.request(j);
                if (a.tenant().equals(b.tenant())) {
                    // the same tenant: the whole system message, and a different question
                    assertThat(system(b)).isEqualTo(system(a));
                    assertThat(b.messages().get(1).content()).isNotEqualTo(a.messages().get(1).content());
                } else {
                    // two tenants: the published prefix and the fixed "Tenant " words, no further
                    assertThat(commonPrefixLength(system(a), system(b))).isBetween(published.length(),
                            (published + " Tenant ").length() + commonPrefixLength(a.tenant(), b.tenant()));
                }
            }
        }
        assertThat(seen).containsExactlyInAnyOrderElementsOf(TENANTS);
        // one system prompt length per tenant, within the range (+2 for "Tenant NAME.")
        for (String t : TENANTS) {
            int numWords = w.systemMessage(t).split(" ").length - 64;
            assertThat(numWords).isBetween(100 + 2, 200 + 2);
        }
    }

    @Test
    void fewShot_headerShared_examplesVaryAndAreDistinctPerRequest() {
        FewShotWorkload w = new FewShotWorkload(3, List.of(), 32, 16, 4, 12, 6, 8);
        FewShotWorkload same = new FewShotWorkload(3, List.of(), 32, 16, 4, 12, 6, 8);
        Set<List<Integer>> orders = new HashSet<>();
        for (int i = 0; i < 30; i++) {
            BenchRequest r = w.request(i);
            assertThat(r).isEqualTo(same.request(i));
            assertThat(r.prompt()).startsWith(w.header() + "\n\nQ: ");
            assertThat(r.prompt()).endsWith("\nA:");
            assertThat(r.tenant()).isNull();
            int[] ids = w.exampleIds(i);
            assertThat(ids).hasSize(4).doesNotHaveDuplicates();
            assertThat(r.prompt().split("\nQ: ")).hasSize(4 + 2); // header+first example, 3 more examples, the question
            orders.add(java.util.Arrays.stream(ids).boxed().toList());
        }
        assertThat(orders).hasSizeGreaterThan(25); // 16*15*14*13 orders: 30 requests almost never repeat one
    }

    @Test
    void multiTurn_turnK_containsTurnKMinus1_withItsStandInAnswer() {
        int numConversations = 3;
        MultiTurnWorkload w = new MultiTurnWorkload(5, List.of("a", "b"), 20, numConversations, 4, 6, 10);
        for (int i = 0; i < 3 * numConversations; i++) {
            BenchRequest earlier = w.request(i);
            BenchRequest next = w.request(i + numConversations);
            assertThat(w.conversation(i + numConversations)).isEqualTo(w.conversation(i));
            assertThat(w.turn(i + numConversations)).isEqualTo(w.turn(i) + 1);
            // the next turn resends the earlier turn's messages, then one answer and one new question
            assertThat(next.messages()).startsWith(earlier.messages().toArray(BenchRequest.ChatMessage[]::new));
            assertThat(next.messages()).hasSize(earlier.messages().size() + 2);
            assertThat(next.messages().get(earlier.messages().size()).role()).isEqualTo("assistant");
            assertThat(next.messages().get(earlier.messages().size()).content().split(" ")).hasSize(10);
            assertThat(next.messages().getLast().role()).isEqualTo("user");
            assertThat(next.tenant()).isEqualTo(earlier.tenant());
        }
        assertThat(w.request(0).messages()).extracting(BenchRequest.ChatMessage::role).containsExactly("system", "user");
        // after conversations x turns requests, new conversations start at turn 0
        assertThat(w.turn(3 * 4)).isZero();
        assertThat(w.conversation(3 * 4)).isEqualTo(3);
        assertThat(w.request(0).messages().get(1)).isNotEqualTo(w.request(1).messages().get(1));
    }

    @Test
    void burstArrivals_sendBurstSizeAtOnce_everyBurstSizeOverRate() {
        BurstArrivals arrivals = new BurstArrivals(4, 8);
        for (int i = 0; i < 24; i++) {
            assertThat(arrivals.nextSeconds()).isEqualTo((i / 8) * 2.0);
        }
    }
}
