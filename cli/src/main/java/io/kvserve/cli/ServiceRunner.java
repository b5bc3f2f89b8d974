package io.kvserve.cli;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.event.ContextClosedEvent;

/** Runs one of the platform's Spring Boot services in the launcher's JVM until it is closed. */
final class ServiceRunner {

    private ServiceRunner() {
    }

    /**
     * Starts {@code app} with {@code args} ({@code --key=value}) and returns when its context closes
     * (Ctrl-C or SIGTERM: Spring's shutdown hook drains and closes it): 0, or 1 if it did not start.
     */
    static int runUntilClosed(SpringApplication app, List<String> args) throws InterruptedException {
        CountDownLatch closed = new CountDownLatch(1);
        app.addListeners(event -> {
            if (event instanceof ContextClosedEvent) {
                closed.countDown();
            }
        });
        ConfigurableApplicationContext context = app.run(args.toArray(String[]::new));
        if (!context.isActive()) {
            return 1;
        }
        closed.await();
        return 0;
    }
}
