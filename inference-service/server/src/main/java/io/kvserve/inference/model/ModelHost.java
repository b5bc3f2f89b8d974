package io.kvserve.inference.model;

import io.kvserve.common.chat.ChatTemplate;
import io.kvserve.common.model.ModelFile;
import io.kvserve.common.openai.OpenAiException;
import io.kvserve.common.tokenizer.LoadedTokenizer;
import io.kvserve.engine.EngineConfig;
import io.kvserve.engine.EngineStats;
import io.kvserve.engine.LlmEngine;
import io.kvserve.engine.kv.KvEventListener;
import io.kvserve.engine.model.LlamaWeights;
import io.kvserve.engine.backend.Backend;
import io.kvserve.engine.backend.Backends;
import io.kvserve.inference.config.ApiProperties;
import io.kvserve.inference.config.EngineProperties;
import io.kvserve.inference.config.InstanceProperties;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;

/**
 * Owns the model and its engine for the life of the instance.
 *
 * <pre>
 *   start():  server already listening -> LOADING (API answers 503) -> load file, weights, tokenizer,
 *             chat template, start engine -> READY (readiness UP, ModelReadyEvent)
 *   stop():   READY -> DRAINING (readiness DOWN, new requests 503) -> wait until the engine is idle or
 *             drain-timeout -> close the engine (aborts what is left) -> STOPPED
 * </pre>
 *
 * Loading runs on its own thread so that liveness answers and readiness says "loading" meanwhile (a
 * 70B GGUF takes a while to map and check). The phase puts start after the web server and stop
 * before the web server's graceful shutdown, so streams end cleanly before connections close.
 */
public final class ModelHost implements SmartLifecycle {

    private static final Logger LOG = LoggerFactory.getLogger(ModelHost.class);

    private final EngineProperties properties;
    private final InstanceProperties instance;
    private final ApiProperties api;
    private final ObjectProvider<KvEventListener> kvEvents;
    private final ApplicationEventPublisher publisher;

    private volatile ModelState state = ModelState.STOPPED;
    private volatile ServedModel served;
    private volatile Throwable failure;
    private volatile long readyAtEpochSeconds;
    private ModelFile modelFile;
    private LlamaWeights weights;
    private Backend backend;
    private Thread loader;

    public ModelHost(EngineProperties properties, InstanceProperties instance, ApiProperties api,
                     ObjectProvider<KvEventListener> kvEvents, ApplicationEventPublisher publisher) {
        this.properties = properties;
        this.instance = instance;
        this.api = api;
        this.kvEvents = kvEvents;
        this.publisher = publisher;
    }

    public ModelState state() {
        return state;
    }

    /** Why loading failed, when it did. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure);
    }

    /** The model when READY. */
    public Optional<ServedModel> served() {
        return state == ModelState.READY ? Optional.ofNullable(served) : Optional.empty();
    }

    /** The model, or a 503 that says why not. */
    public ServedModel require() {
        ServedModel model = served;
        ModelState s = state;
        if (s == ModelState.READY && model != null) {
            return model;
        }
        Duration retryAfter = Duration.ofSeconds(api.retryAfterSeconds());
        throw switch (s) {
            case LOADING -> OpenAiException.unavailable("the model " + properties.modelName()
                    + " is loading; retry shortly", retryAfter);
            case DRAINING, STOPPED -> OpenAiException.unavailable("this instance is shutting down; retry on another",
                    retryAfter);
            case FAILED -> OpenAiException.unavailable("the model failed to load: " + failure, null);
            case READY -> throw new IllegalStateException("READY without a model");
        };
    }

    /** When the model became ready, Unix seconds ({@code created} in {@code /v1/models}). */
    public long startedAtEpochSeconds() {
        return readyAtEpochSeconds;
    }

    /** The engine's latest stats while it runs. */
    public Optional<EngineStats> stats() {
        ServedModel model = served;
        return model == null ? Optional.empty() : Optional.of(model.engine().stats());
    }

    @Override
    public synchronized void start() {
        if (state != ModelState.STOPPED) {
            return;
        }
        state = ModelState.LOADING;
        loader = Thread.ofPlatform().name("kvserve-model-loader").daemon(true).start(this::load);
    }

    private void load() {
        long startNanos = System.nanoTime();
        try {
            LOG.info("loading {} from {}", properties.modelName(), properties.model());
            modelFile = ModelFile.open(properties.model());
            weights = LlamaWeights.load(modelFile);
            LoadedTokenizer tokenizer = modelFile.tokenizer();
            Optional<ChatTemplate> template = tokenizer.compiledChatTemplate();
            Backends.Selection selection = Backends.select(properties.backend(), properties.numThreads());
            backend = selection.backend();
            LOG.info("backend {}", selection.explanation());
            EngineConfig config = properties.engineConfig();
            LlmEngine engine = new LlmEngine(weights, tokenizer.tokenizer(), backend, config,
                    kvEvents.getIfAvailable(() -> KvEventListener.NONE), null);
            EngineStats stats = engine.stats();
            ModelInfo info = new ModelInfo(properties.modelName(), properties.model().toString(),
                    modelFile.format().name(), modelFile.config().architecture().name().toLowerCase(Locale.ROOT),
                    weights.wq[0].type().name(), backend.name(), selection.explanation(),
                    backend.name().equals("cpu") ? properties.numThreads() : 0, modelFile.config().contextLength(),
                    engine.maxModelLen(), modelFile.config().vocabSize(), config.blockSize(), stats.numTotalBlocks(),
                    config.kvCacheDtype().name().toLowerCase(Locale.ROOT), config.enablePrefixCaching(),
                    config.maxNumSeqs(), config.maxNumBatchedTokens());
            synchronized (this) {
                if (state != ModelState.LOADING) { // stopped while loading
                    engine.close();
                    closeResources();
                    return;
                }
                served = new ServedModel(info, engine, tokenizer.tokenizer(), template);
                readyAtEpochSeconds = System.currentTimeMillis() / 1000;
                state = ModelState.READY;
            }
            LOG.info("model {} ready in {} ms: {} {} {}, {} KV blocks of {} tokens ({}), {} threads{}",
                    info.name(), (System.nanoTime() - startNanos) / 1_000_000, info.architecture(), info.weightType(),
                    info.format(), info.numKvBlocks(), info.blockSize(), info.kvCacheDtype(), info.numThreads(),
                    template.isPresent() ? "" : "; no chat template: /v1/chat/completions answers 400");
            publisher.publishEvent(new ModelReadyEvent(info));
        } catch (Throwable e) {
            failure = e;
            state = ModelState.FAILED;
            closeResources();
            LOG.error("could not load the model {}", properties.model(), e);
        }
    }

    @Override
    public void stop() {
        ServedModel model;
        synchronized (this) {
            if (state == ModelState.STOPPED) {
                return;
            }
            boolean wasReady = state == ModelState.READY;
            state = ModelState.DRAINING;
            model = wasReady ? served : null;
        }
        AvailabilityChangeEvent.publish(publisher, this, ReadinessState.REFUSING_TRAFFIC);
        if (model != null) {
            drain(model.engine());
            model.engine().close();
        }
        joinLoader();
        synchronized (this) {
            served = null;
            closeResources();
            state = ModelState.STOPPED;
        }
    }

    /**
     * Waits until the engine has no live request (queued ones in its inbox included, which its
     * stats count only after a step), at most the drain timeout.
     */
    private void drain(LlmEngine engine) {
        long deadline = System.nanoTime() + instance.drainTimeout().toNanos();
        while (engine.numLiveRequests() > 0 && System.nanoTime() < deadline) {
            LockSupport.parkNanos(20_000_000);
        }
        int numLeft = engine.numLiveRequests();
        if (numLeft > 0) {
            LOG.warn("drain timeout {}: aborting {} requests still in flight", instance.drainTimeout(), numLeft);
        } else {
            LOG.info("drained: no request in flight");
        }
    }

    private void joinLoader() {
        Thread t = loader;
        if (t == null) {
            return;
        }
        try {
            t.join(instance.drainTimeout().toMillis() + 1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private synchronized void closeResources() {
        if (backend != null) {
            backend.close();
            backend = null;
        }
        if (weights != null) {
            weights.close();
            weights = null;
        }
        if (modelFile != null) {
            modelFile.close();
            modelFile = null;
        }
    }

    @Override
    public boolean isRunning() {
        return state == ModelState.LOADING || state == ModelState.READY;
    }

    /** After the web server starts (it listens while the model loads); stopped before its graceful shutdown. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE;
    }

    /** Published when the model is loaded and the engine runs. */
    public record ModelReadyEvent(ModelInfo info) {
    }
}
