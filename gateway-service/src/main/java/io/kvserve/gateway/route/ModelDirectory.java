package io.kvserve.gateway.route;

import io.kvserve.common.openai.ModelList;
import io.kvserve.common.openai.OpenAiException;
import java.time.Duration;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The models the platform serves, as the scheduler lists them, refreshed in the background: the
 * gateway refuses an unknown model itself (404) without a call to the scheduler. Before the first
 * successful fetch, a lookup fetches; while the scheduler is unreachable the last list stays in use.
 */
public final class ModelDirectory implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ModelDirectory.class);

    private final SchedulerClient scheduler;
    private final Disposable refresher;
    private volatile ModelList models;

    public ModelDirectory(SchedulerClient scheduler, Duration refresh) {
        this.scheduler = scheduler;
        this.refresher = Flux.interval(Duration.ZERO, refresh)
                .onBackpressureDrop()
                .concatMap(tick -> fetch().onErrorResume(e -> {
                    LOG.debug("model list refresh failed: {}", e.toString());
                    return Mono.empty();
                }))
                .subscribe();
    }

    /** The current list, fetched now if none has come yet (503 when the scheduler cannot be reached). */
    public Mono<ModelList> list() {
        ModelList current = models;
        return current != null ? Mono.just(current) : fetch().onErrorMap(e -> e instanceof OpenAiException ? e
                : OpenAiException.unavailable("the model list is not available yet: the scheduler is unreachable",
                        Duration.ofSeconds(2)));
    }

    /** The model named {@code name}, or 404 naming the served ones. */
    public Mono<ModelList.Model> require(String name) {
        return list().flatMap(list -> {
            for (ModelList.Model model : list.data()) {
                if (model.id().equals(name)) {
                    return Mono.just(model);
                }
            }
            return Mono.error(OpenAiException.modelNotFound(name, list.data().stream().map(ModelList.Model::id)
                    .collect(Collectors.joining("', '"))));
        });
    }

    private Mono<ModelList> fetch() {
        return scheduler.models().doOnNext(list -> models = list);
    }

    @Override
    public void close() {
        refresher.dispose();
    }
}
