package io.kvserve.engine;

import io.kvserve.common.kvcache.BlockHasher;
import io.kvserve.common.model.ModelConfig;
import io.kvserve.common.tokenizer.IncrementalDetokenizer;
import io.kvserve.common.tokenizer.Tokenizer;
import io.kvserve.engine.kv.BlockPool;
import io.kvserve.engine.kv.KvCacheManager;
import io.kvserve.engine.kv.KvEventListener;
import io.kvserve.engine.backend.Backend;
import io.kvserve.engine.backend.CpuBackend;
import io.kvserve.engine.model.LlamaWeights;
import io.kvserve.engine.model.ModelRunner;
import io.kvserve.engine.model.PagedKvCache;
import io.kvserve.engine.sample.SampledToken;
import io.kvserve.engine.sample.SamplingParams;
import io.kvserve.engine.sample.SequenceSampler;
import io.kvserve.engine.sample.StopStringMatcher;
import io.kvserve.engine.sched.Request;
import io.kvserve.engine.sched.ScheduledSequence;
import io.kvserve.engine.sched.Scheduler;
import io.kvserve.engine.sched.SchedulerConfig;
import io.kvserve.engine.sched.SchedulerOutput;
import io.kvserve.engine.sched.StallFreeScheduler;
import io.kvserve.engine.ops.TensorOps;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The serving core: one platform thread runs the step loop (schedule, execute, update) and owns all
 * scheduler, KV and per-request state, so none of it needs a lock; the only crossing between threads
 * is a bridge (vLLM v1's {@code EngineCore} and {@code OutputProcessor} in one process).
 *
 * <pre>
 *   callers --submit/abort/reannounce--&gt; inbox (ConcurrentLinkedQueue) --unpark--&gt; step loop thread
 *   step loop:  drain inbox -&gt; scheduler.schedule() -&gt; ForwardBatch -&gt; model.forward
 *               -&gt; sample each row -&gt; stop checks -&gt; sink.accept(RequestOutput) -&gt; free finished
 *               -&gt; publish EngineStats (volatile) -&gt; park when nothing is left
 * </pre>
 *
 * <p><b>Submission</b> validates on the caller's thread, so a bad request never reaches the loop:
 * an empty prompt, token ids outside the vocabulary, logit bias or stop ids outside it, a prompt of
 * maxModelLen tokens or more ({@code prompt}), a short salt ({@code cache_salt}), a request that
 * could not fit the whole KV pool even alone. Length policy: like vLLM, a prompt must leave room
 * for one generated token ({@code promptTokens < maxModelLen}); {@code max_tokens} beyond the context
 * is not an error but capped: generation ends with {@link FinishReason#LENGTH} at maxModelLen
 * tokens. A full queue ({@code maxNumWaiting} requests not yet scheduled) throws
 * {@link QueueFullException} (HTTP 429). Hashing the prompt's block chain happens here too.
 *
 * <p><b>Failures.</b> An exception from the model fails the requests of that step with
 * {@link FinishReason#ERROR} (their blocks freed) and the loop goes on; because blocks are entered in
 * the prefix cache when allocated, the blocks that step was to write leave the cache first
 * ({@link KvCacheManager#uncacheUnwritten}: a half-written block must not be hit later), and the
 * failure is logged. A sink that throws aborts its request only.
 *
 * <p>The engine does not own the weights, ops, backend or tokenizer: the caller closes them after the
 * engine. It owns its model runner (and with it a GPU's KV cache and activations) and closes it.
 */
public final class LlmEngine implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(LlmEngine.class.getName());
    private static final AtomicInteger NUM_ENGINES = new AtomicInteger();

    private final EngineConfig config;
    private final Tokenizer tokenizer;
    private final int vocabSize;
    private final int eosTokenId;
    private final int maxModelLen;
    private final int numTotalBlocks;
    private final byte[] defaultCacheSalt;
    private final BlockHasher hasher;

    // owned by the step-loop thread
    private final ModelRunner model;
    private final KvCacheManager kv;
    private final Scheduler scheduler;
    private final Map<String, Live> live = new HashMap<>();
    private final float[] logits; // (maxNumSeqs, vocabSize): one row per sampling sequence
    private long numPromptTokens;
    private long numGenerationTokens;
    private long numSteps;

    // the bridge
    private final ConcurrentLinkedQueue<Command> inbox = new ConcurrentLinkedQueue<>();
    private final Set<String> liveIds = ConcurrentHashMap.newKeySet();
    private final AtomicInteger numQueued = new AtomicInteger();
    private final Thread loopThread;
    private volatile boolean closed;
    private volatile EngineStats stats;

    /** An engine with a random engine-wide default salt (requests without a salt share only within this engine). */
    public LlmEngine(LlamaWeights weights, Tokenizer tokenizer, TensorOps ops, EngineConfig config,
                     KvEventListener kvEvents) {
        this(weights, tokenizer, ops, config, kvEvents, null);
    }

    /**
     * @param weights          the model; not closed by the engine
     * @param tokenizer        the model's tokenizer (EOS, detokenization)
     * @param ops              kernels, used from the step-loop thread only
     * @param config           limits
     * @param kvEvents         receives the prefix cache's stored/removed events, on the loop thread
     * @param defaultCacheSalt salt of requests that bring none (>= 16 bytes; replicas that should share
     *                         such prefixes through kvshare use the same one); null for a random one
     */
    public LlmEngine(LlamaWeights weights, Tokenizer tokenizer, TensorOps ops, EngineConfig config,
                     KvEventListener kvEvents, byte[] defaultCacheSalt) {
        this(weights, tokenizer, CpuBackend.over(ops), config, kvEvents, defaultCacheSalt);
    }

    /**
     * As {@link #LlmEngine(LlamaWeights, Tokenizer, TensorOps, EngineConfig, KvEventListener, byte[])},
     * on any backend: the engine makes its model runner from {@code backend} and closes the runner
     * when its loop ends; the backend stays the caller's.
     */
    public LlmEngine(LlamaWeights weights, Tokenizer tokenizer, Backend backend, EngineConfig config,
                     KvEventListener kvEvents, byte[] defaultCacheSalt) {
        this.config = Objects.requireNonNull(config, "config");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        ModelConfig modelConfig = weights.config();
        this.vocabSize = modelConfig.vocabSize();
        if (tokenizer.vocabSize() > vocabSize) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize()
                    + " tokens, the model only " + vocabSize + ": wrong tokenizer for this model?");
        }
        this.eosTokenId = tokenizer.eosId().orElse(-1);
        if (config.maxModelLen() > modelConfig.contextLength()) {
            throw new IllegalArgumentException("maxModelLen " + config.maxModelLen() + " exceeds the model's context length "
                    + modelConfig.contextLength() + "; set maxModelLen <= " + modelConfig.contextLength() + " or 0");
        }
        this.maxModelLen = config.maxModelLen() == 0 ? modelConfig.contextLength() : config.maxModelLen();
        if (defaultCacheSalt == null) {
            defaultCacheSalt = new byte[32];
            new SecureRandom().nextBytes(defaultCacheSalt);
        } else if (defaultCacheSalt.length < BlockHasher.MIN_SALT_BYTES) {
            throw new IllegalArgumentException("defaultCacheSalt must be at least " + BlockHasher.MIN_SALT_BYTES
                    + " bytes, got " + defaultCacheSalt.length);
        }
        this.defaultCacheSalt = defaultCacheSalt.clone();
        this.hasher = config.enablePrefixCaching() ? new BlockHasher(config.blockSize()) : null;

        int numBlocks = config.numKvBlocks() > 0 ? config.numKvBlocks()
                : PagedKvCache.numBlocksFor(modelConfig, config.kvCacheBytes(), config.blockSize(), config.kvCacheDtype());
        if (numBlocks < 1) {
            throw new IllegalArgumentException("kvCacheBytes " + config.kvCacheBytes() + " holds no KV block of "
                    + PagedKvCache.bytesPerBlock(modelConfig, config.blockSize(), config.kvCacheDtype())
                    + " bytes; raise kvCacheBytes or set numKvBlocks");
        }
        this.numTotalBlocks = numBlocks;
        this.model = backend.createRunner(weights, numBlocks, config.blockSize(), config.kvCacheDtype(),
                config.maxNumBatchedTokens());
        this.kv = new KvCacheManager(new BlockPool(numBlocks, config.enablePrefixCaching(),
                Objects.requireNonNull(kvEvents, "kvEvents")), config.blockSize());
        this.scheduler = new StallFreeScheduler(new SchedulerConfig(config.maxNumBatchedTokens(), config.maxNumSeqs(),
                maxModelLen, config.agingSeconds()), kv, System::nanoTime);
        this.logits = new float[config.maxNumSeqs() * vocabSize];
        publishStats();
        this.loopThread = Thread.ofPlatform().name("kvserve-engine-" + NUM_ENGINES.incrementAndGet()).daemon(true)
                .unstarted(this::runLoop);
        loopThread.start();
    }

    public EngineConfig config() {
        return config;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Most tokens (prompt plus output) per sequence. */
    public int maxModelLen() {
        return maxModelLen;
    }

    /**
     * Requests submitted and not yet finished, those still in the inbox included (the stats count
     * them only after the loop's next step). Thread-safe.
     */
    public int numLiveRequests() {
        return liveIds.size();
    }

    /** The latest snapshot published by the step loop. */
    public EngineStats stats() {
        return stats;
    }

    /**
     * Queues a request; its outputs go to {@code sink} on the engine thread. Thread-safe.
     *
     * @throws InvalidRequestException for a request the engine can never serve (see the class comment)
     * @throws QueueFullException      when {@code maxNumWaiting} requests are already queued
     * @throws IllegalStateException   after {@link #close()}
     */
    public void submit(EngineRequest request, OutputSink sink) {
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(sink, "sink");
        if (closed) {
            throw new IllegalStateException("the engine is closed");
        }
        int[] prompt = request.promptIdsShared();
        SamplingParams params = request.params();
        int numPrompt = prompt.length;
        if (numPrompt == 0) {
            throw new InvalidRequestException("prompt", "the prompt is empty; send at least one token");
        }
        for (int i = 0; i < numPrompt; i++) {
            if (prompt[i] < 0 || prompt[i] >= vocabSize) {
                throw new InvalidRequestException("prompt", "prompt token " + prompt[i] + " at index " + i
                        + " is outside the vocabulary 0.." + (vocabSize - 1));
            }
        }
        if (numPrompt >= maxModelLen) {
            throw new InvalidRequestException("prompt", "this model's maximum context length is " + maxModelLen
                    + " tokens and the prompt has " + numPrompt + "; shorten it to at most " + (maxModelLen - 1)
                    + " tokens to leave room for one generated token");
        }
        params.checkVocabulary(vocabSize);
        byte[] salt = request.cacheSaltShared() == null ? defaultCacheSalt : request.cacheSaltShared();
        if (salt.length < BlockHasher.MIN_SALT_BYTES) {
            throw new InvalidRequestException("cache_salt", "cache_salt must be at least " + BlockHasher.MIN_SALT_BYTES
                    + " bytes (32 random bytes recommended), got " + salt.length);
        }
        int numPromptBlocks = numPrompt / config.blockSize();
        if (request.numPublishedBlocks() > numPromptBlocks) {
            throw new InvalidRequestException(null, "numPublishedBlocks " + request.numPublishedBlocks()
                    + " exceeds the " + numPromptBlocks + " full blocks of the " + numPrompt + "-token prompt");
        }
        int maxNumTokens = (int) Math.min((long) numPrompt + params.maxTokens(), maxModelLen);
        int numSlotsNeeded = maxNumTokens - 1; // the last sampled token is never fed back
        int numBlocksNeeded = (numSlotsNeeded + config.blockSize() - 1) / config.blockSize();
        if (numBlocksNeeded > numTotalBlocks) {
            int maxSlots = numTotalBlocks * config.blockSize();
            throw numPrompt > maxSlots
                    ? new InvalidRequestException("prompt", "the prompt has " + numPrompt + " tokens, the KV cache holds "
                            + maxSlots + " in all; shorten the prompt")
                    : new InvalidRequestException("max_tokens", "prompt (" + numPrompt + ") plus max_tokens ("
                            + params.maxTokens() + ") needs " + numBlocksNeeded + " KV blocks, the cache has "
                            + numTotalBlocks + "; lower max_tokens to at most " + (maxSlots - numPrompt + 1));
        }
        if (!liveIds.add(request.requestId())) {
            throw new InvalidRequestException(null, "request id " + request.requestId() + " is already in use");
        }
        boolean counted = false;
        try {
            int n;
            do {
                n = numQueued.get();
                if (n >= config.maxNumWaiting()) {
                    throw new QueueFullException(config.maxNumWaiting());
                }
            } while (!numQueued.compareAndSet(n, n + 1));
            counted = true;
            Request state = new Request(request.requestId(), prompt, maxNumTokens, request.arrivalNanos(), salt,
                    request.numPublishedBlocks(), hasher);
            SequenceSampler sampler = new SequenceSampler(params, prompt, vocabSize, eosTokenId,
                    ThreadLocalRandom.current().nextLong());
            Live l = new Live(request, state, sampler, new IncrementalDetokenizer(tokenizer, true),
                    new StopStringMatcher(params.stop()), sink);
            Command add = new Command.Add(l);
            inbox.add(add);
            if (closed && inbox.remove(add)) { // close() raced us: the loop may be past its last drain
                throw new IllegalStateException("the engine is closed");
            }
        } catch (RuntimeException e) {
            liveIds.remove(request.requestId());
            if (counted) {
                numQueued.decrementAndGet();
            }
            throw e;
        }
        LockSupport.unpark(loopThread);
    }

    /** Aborts a request at the next step (its sink gets a final ABORT output); unknown ids are ignored. Thread-safe. */
    public void abort(String requestId) {
        inbox.add(new Command.Abort(Objects.requireNonNull(requestId, "requestId")));
        LockSupport.unpark(loopThread);
    }

    /**
     * Asks the step loop to announce its whole prefix cache again through the KV event listener: an
     * {@link io.kvserve.engine.kv.KvEvent.AllCleared} then a {@link io.kvserve.engine.kv.KvEvent.BlockStored}
     * per cached block, parents first ({@link io.kvserve.engine.kv.BlockPool#reannounce()}), between two
     * steps. For a KV index that lost events (Redis was down, the publisher's buffer overflowed, kvshare
     * restarted). Thread-safe; ignored after {@link #close()}.
     */
    public void reannounceKvCache() {
        inbox.add(Command.Reannounce.INSTANCE);
        LockSupport.unpark(loopThread);
    }

    /** Stops the loop after its current step; requests still live end with ABORT. Waits for the thread. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(loopThread);
        if (Thread.currentThread() != loopThread) {
            boolean interrupted = false;
            while (loopThread.isAlive()) {
                try {
                    loopThread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---------------------------------------------------------------- the step loop (engine thread only)

    private void runLoop() {
        try {
            while (!closed) {
                drainInbox();
                if (closed) {
                    break;
                }
                if (!scheduler.hasUnfinished()) {
                    publishStats();
                    LockSupport.park(this);
                    continue;
                }
                step();
                publishStats();
            }
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "the engine loop died; failing every request", t);
            closed = true;
            failAll(FinishReason.ERROR);
            model.close(); // on the loop thread, which owns a GPU runner's context
            throw t;
        }
        drainInbox();
        failAll(FinishReason.ABORT);
        publishStats();
        model.close();
    }

    private void failAll(FinishReason reason) {
        for (Live l : new ArrayList<>(live.values())) {
            finish(l, reason, "", true);
        }
        Command c;
        while ((c = inbox.poll()) != null) {
            if (c instanceof Command.Add(Live l)) {
                live.put(l.state.requestId(), l);
                finish(l, reason, "", true);
            }
        }
    }

    private void drainInbox() {
        Command c;
        while ((c = inbox.poll()) != null) {
            switch (c) {
                case Command.Add(Live l) -> {
                    live.put(l.state.requestId(), l);
                    scheduler.add(l.state);
                }
                case Command.Abort(String requestId) -> {
                    Live l = live.get(requestId);
                    if (l != null) {
                        finish(l, FinishReason.ABORT, "", true);
                    }
                }
                case Command.Reannounce r -> kv.reannounce();
            }
        }
    }

    private void step() {
        SchedulerOutput out = scheduler.schedule();
        if (out.isEmpty()) {
            // nothing fits now (blocks held by requests that cannot run): wait briefly instead of spinning
            LockSupport.parkNanos(this, 1_000_000);
            return;
        }
        List<ScheduledSequence> sequences = out.sequences();
        for (int s = 0; s < sequences.size(); s++) {
            Live l = live.get(sequences.get(s).requestId());
            if (l.queued) {
                l.queued = false;
                numQueued.decrementAndGet();
                numPromptTokens += l.state.numPromptTokens();
            }
        }
        numSteps++;
        try {
            model.forward(out.toForwardBatch(), logits);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "forward of a step with " + sequences.size() + " sequences, "
                    + out.numBatchedTokens() + " tokens failed; failing those requests", e);
            for (ScheduledSequence seq : sequences) {
                kv.uncacheUnwritten(seq.requestId(), seq.startPosition());
                Live l = live.get(seq.requestId());
                if (l != null) {
                    finish(l, FinishReason.ERROR, "", true);
                }
            }
            return;
        }
        long now = System.nanoTime();
        int row = 0;
        for (int s = 0; s < sequences.size(); s++) {
            ScheduledSequence seq = sequences.get(s);
            if (seq.samples()) {
                update(live.get(seq.requestId()), row++ * vocabSize, now);
            }
        }
    }

    /** Samples one request's row, appends the token, checks the stop conditions, emits. */
    private void update(Live l, int rowOffset, long now) {
        SampledToken token = l.sampler.sample(logits, rowOffset);
        int tokenId = token.tokenId();
        l.state.appendToken(tokenId);
        numGenerationTokens++;
        if (l.firstTokenNanos < 0) {
            l.firstTokenNanos = now;
        }
        l.lastTokenNanos = now;
        int numGenerated = l.state.numOutputTokens();
        boolean mayStop = numGenerated >= l.request.params().minTokens();

        FinishReason reason = null;
        String text;
        if (mayStop && l.sampler.isStopToken(tokenId)) {
            reason = FinishReason.STOP;
            text = flushText(l);
        } else {
            StopStringMatcher.Result result = l.stops.push(l.detokenizer.push(tokenId));
            text = result.text();
            if (result.stopped()) {
                reason = FinishReason.STOP;
            } else if (l.state.numTokens() >= l.state.maxNumTokens()) {
                reason = FinishReason.LENGTH;
                text = text + flushText(l);
            }
        }
        List<SampledToken> logprobs = l.request.params().logprobs() >= 0 ? List.of(token) : List.of();
        if (reason != null) {
            finish(l, reason, text, new int[] {tokenId}, logprobs, true);
        } else if (!emit(l, new RequestOutput(l.state.requestId(), new int[] {tokenId}, text, logprobs, null, null, null))) {
            finish(l, FinishReason.ABORT, "", false);
        }
    }

    /** The text still held by the detokenizer and the stop matcher, at the end of generation. */
    private static String flushText(Live l) {
        StopStringMatcher.Result rest = l.stops.push(l.detokenizer.flush());
        return rest.stopped() ? rest.text() : rest.text() + l.stops.flush();
    }

    private void finish(Live l, FinishReason reason, String text, boolean notify) {
        finish(l, reason, text, new int[0], List.of(), notify);
    }

    private void finish(Live l, FinishReason reason, String text, int[] newTokenIds, List<SampledToken> logprobs,
                        boolean notify) {
        String id = l.state.requestId();
        scheduler.finish(id);
        live.remove(id);
        liveIds.remove(id);
        if (l.queued) {
            l.queued = false;
            numQueued.decrementAndGet();
        }
        if (notify) {
            Request r = l.state;
            RequestOutput.Usage usage = new RequestOutput.Usage(r.numPromptTokens(), r.numOutputTokens(),
                    r.numCachedPromptTokens());
            RequestOutput.Timings timings = new RequestOutput.Timings(l.request.arrivalNanos(), r.firstScheduledNanos(),
                    l.firstTokenNanos, l.lastTokenNanos, System.nanoTime());
            emit(l, new RequestOutput(id, newTokenIds, text, logprobs, reason, usage, timings));
        }
    }

    /** Calls the sink; false (logged) when it threw. */
    private boolean emit(Live l, RequestOutput output) {
        try {
            l.sink.accept(output);
            return true;
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "the sink of request " + output.requestId()
                    + " threw; aborting that request", e);
            return false;
        }
    }

    private void publishStats() {
        stats = new EngineStats(scheduler.numRunning(), scheduler.numWaiting(), kv.usage(), kv.numFreeBlocks(),
                numTotalBlocks, kv.prefixCacheQueries(), kv.prefixCacheHits(), scheduler.numPreemptions(),
                numPromptTokens, numGenerationTokens, numSteps);
    }

    /** A live request's engine-side state; owned by the loop thread once it is in {@link #live}. */
    private static final class Live {
        final EngineRequest request;
        final Request state;
        final SequenceSampler sampler;
        final IncrementalDetokenizer detokenizer;
        final StopStringMatcher stops;
        final OutputSink sink;
        boolean queued = true; // counted in numQueued until first scheduled or finished
        long firstTokenNanos = -1;
        long lastTokenNanos = -1;

        Live(EngineRequest request, Request state, SequenceSampler sampler, IncrementalDetokenizer detokenizer,
             StopStringMatcher stops, OutputSink sink) {
            this.request = request;
            this.state = state;
            this.sampler = sampler;
            this.detokenizer = detokenizer;
            this.stops = stops;
            this.sink = sink;
        }
    }

    private sealed interface Command {
        record Add(Live live) implements Command {
        }

        record Abort(String requestId) implements Command {
        }

        record Reannounce() implements Command {
            static final Reannounce INSTANCE = new Reannounce();
        }
    }
}
