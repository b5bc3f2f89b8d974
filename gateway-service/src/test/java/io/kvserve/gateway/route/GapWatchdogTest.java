package io.kvserve.gateway.route;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class GapWatchdogTest {

    private static final Duration MAX_GAP = Duration.ofSeconds(30);

    @Test
    void itemsWithinTheGap_passAndTheStreamCompletes() {
        StepVerifier.withVirtualTime(() -> GapWatchdog.watch(
                        Flux.just(1, 2, 3).delayElements(Duration.ofSeconds(20)), MAX_GAP))
                .thenAwait(Duration.ofMinutes(2))
                .expectNext(1, 2, 3)
                .expectComplete().verify(Duration.ofSeconds(10));
    }

    @Test
    void aGapLongerThanTheLimitAfterTheFirstItem_failsWithinAQuarterMore() {
        StepVerifier.withVirtualTime(() -> GapWatchdog.watch(
                        Flux.just(1).concatWith(Mono.delay(Duration.ofMinutes(5)).thenReturn(2)), MAX_GAP))
                .expectSubscription()
                .expectNext(1)
                .expectNoEvent(Duration.ofSeconds(29))
                .thenAwait(Duration.ofSeconds(9)) // 38 s: past 30 s, checked every 7.5 s
                .expectError(TimeoutException.class)
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void beforeTheFirstItem_noGapIsCounted() {
        StepVerifier.withVirtualTime(() -> GapWatchdog.watch(
                        Mono.delay(Duration.ofMinutes(3)).thenReturn(1).flux(), MAX_GAP))
                .thenAwait(Duration.ofMinutes(3))
                .expectNext(1)
                .expectComplete().verify(Duration.ofSeconds(10));
    }
}
