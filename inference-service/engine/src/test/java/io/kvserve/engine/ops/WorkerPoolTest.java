package io.kvserve.engine.ops;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WorkerPoolTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 5})
    void parallelFor_manyCallsAndSizes_visitsEveryItemOnceOnItsStaticShare(int numThreads) {
        try (WorkerPool pool = new WorkerPool(numThreads)) {
            for (int call = 0; call < 2000; call++) {
                int numItems = call % 97;
                AtomicIntegerArray visits = new AtomicIntegerArray(numItems);
                AtomicIntegerArray owner = new AtomicIntegerArray(Math.max(1, numItems));
                pool.parallelFor(numItems, (start, end, threadIndex) -> {
                    for (int i = start; i < end; i++) {
                        visits.incrementAndGet(i);
                        owner.set(i, threadIndex);
                    }
                });
                for (int i = 0; i < numItems; i++) {
                    assertThat(visits.get(i)).as("call %d item %d", call, i).isEqualTo(1);
                    if (numItems >= numThreads) {
                        int expectedOwner = 0;
                        while ((long) numItems * (expectedOwner + 1) / numThreads <= i) {
                            expectedOwner++;
                        }
                        assertThat(owner.get(i)).as("owner of item %d of %d", i, numItems).isEqualTo(expectedOwner);
                    }
                }
            }
        }
    }

    @Test
    void parallelFor_afterIdlePark_stillWakesWorkers() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(3)) {
            AtomicIntegerArray seen = new AtomicIntegerArray(3);
            for (int round = 0; round < 3; round++) {
                Thread.sleep(WorkerPool.SPIN_NANOS / 1_000_000 + 20);
                pool.parallelFor(30, (start, end, threadIndex) -> seen.incrementAndGet(threadIndex));
            }
            assertThat(seen.get(0)).isEqualTo(3);
            assertThat(seen.get(1)).isEqualTo(3);
            assertThat(seen.get(2)).isEqualTo(3);
        }
    }

    @Test
    void parallelFor_workerThrows_rethrownOnCallerAndPoolStillUsable() {
        try (WorkerPool pool = new WorkerPool(2)) {
            assertThatThrownBy(() -> pool.parallelFor(10, (start, end, threadIndex) -> {
                if (threadIndex == 1) {
                    throw new IllegalStateException("boom");
                }
            })).isInstanceOf(IllegalStateException.class).hasMessage("boom");
            int[] sum = new int[1];
            pool.parallelFor(10, (start, end, threadIndex) -> {
                synchronized (sum) {
                    sum[0] += end - start;
                }
            });
            assertThat(sum[0]).isEqualTo(10);
        }
    }

    @Test
    void parallelFor_afterClose_throws() {
        WorkerPool pool = new WorkerPool(2);
        pool.close();
        assertThatThrownBy(() -> pool.parallelFor(4, (start, end, threadIndex) -> { }))
                .isInstanceOf(IllegalStateException.class);
    }
}
