package io.kvserve.gateway.route;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Fails a stream whose items stop coming: once the first item is in, a gap longer than {@code maxGap}
 * between two items is a {@link TimeoutException}. Reactor's {@code Flux.timeout(first, item ->
 * next)} does the same by scheduling a timer for every item — at 1,000 streams that is tens of
 * thousands of timer tasks a second on the gateway's two cores. Here each stream has one periodic
 * check, every quarter of {@code maxGap}, that compares the time of the last item: a gap is seen
 * between {@code maxGap} and 1.25 x {@code maxGap} after the last item.
 */
final class GapWatchdog {

    private GapWatchdog() {
    }

    static <T> Flux<T> watch(Flux<T> source, Duration maxGap) {
        long maxGapNanos = maxGap.toNanos();
        Duration period = maxGap.dividedBy(4).compareTo(Duration.ofMillis(10)) < 0 ? Duration.ofMillis(10)
                : maxGap.dividedBy(4);
        return Flux.defer(() -> {
            Scheduler clock = Schedulers.parallel(); // its time, so that tests can run it virtually
            AtomicLong lastItemNanos = new AtomicLong(Long.MIN_VALUE); // none yet
            Sinks.Empty<Void> ended = Sinks.empty();
            Flux<T> watched = source.doOnNext(item -> lastItemNanos.set(clock.now(TimeUnit.NANOSECONDS)))
                    .doFinally(signal -> ended.tryEmitEmpty());
            Flux<T> alarm = Flux.interval(period, period, clock)
                    .takeUntilOther(ended.asMono())
                    .filter(tick -> {
                        long last = lastItemNanos.get();
                        return last != Long.MIN_VALUE && clock.now(TimeUnit.NANOSECONDS) - last > maxGapNanos;
                    })
                    .next()
                    .flatMapMany(tick -> Flux.error(new TimeoutException("no item for " + maxGap)));
            return watched.mergeWith(alarm);
        });
    }
}
