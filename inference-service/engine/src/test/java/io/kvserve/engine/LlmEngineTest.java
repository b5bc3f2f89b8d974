package io.kvserve.engine;

import io.kvserve.engine.backend.Backend;
import io.kvserve.engine.backend.CpuBackend;
import io.kvserve.engine.model.ForwardBatch;
import io.kvserve.engine.model.KvCacheDtype;
import io.kvserve.engine.model.ModelRunner;
import io.kvserve.common.model.ModelConfig;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.kvserve.common.kvcache.BlockHash;
import io.kvserve.common.model.ModelFile;
import io.kvserve.common.model.gen.ModelGenerator;
import io.kvserve.common.model.gen.ModelGenerator.WeightType;
import io.kvserve.common.model.gen.ModelPreset;
import io.kvserve.common.tokenizer.Tokenizer;
import io.kvserve.engine.kv.KvEvent;
import io.kvserve.engine.kv.KvEventListener;
import io.kvserve.engine.model.LlamaModel;
import io.kvserve.engine.model.LlamaWeights;
import io.kvserve.engine.ops.VectorTensorOps;
import io.kvserve.engine.sample.SamplingParams;
import io.kvserve.engine.sample.SequenceSampler;
import io.kvserve.engine.ops.TensorOps;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The engine end to end on a generated tiny llama (2 layers, dim 64, vocabulary 1024): whatever the
 * batch, the chunking, the prefix cache or preemption do, each request's greedy tokens must equal the
 * single-sequence reference (the contiguous-cache {@link LlamaModel} API and an argmax loop).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LlmEngineTest {

    private static final byte[] SALT_A = "tenant-a-secret-salt-0123456789".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SALT_B = "tenant-b-secret-salt-0123456789".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    static Path dir;
    static ModelFile modelFile;
    static LlamaWeights weights;
    static Tokenizer tokenizer;
    static int vocabSize;

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @BeforeAll
    static void loadModel() throws IOException {
        Path file = dir.resolve("tiny-f32.gguf");
        new ModelGenerator(ModelPreset.TINY, 7).writeGguf(file, WeightType.F32);
        modelFile = ModelFile.open(file);
        weights = LlamaWeights.load(modelFile);
        tokenizer = modelFile.tokenizer().tokenizer();
        vocabSize = weights.config().vocabSize();
    }

    @AfterAll
    static void closeModel() {
        weights.close();
        modelFile.close();
    }

    @AfterEach
    void closeEngines() throws Exception {
        for (AutoCloseable c : closeables.reversed()) {
            c.close();
        }
    }

    private LlmEngine engine(EngineConfig config) {
        return engine(config, KvEventListener.NONE);
    }

    private LlmEngine engine(EngineConfig config, KvEventListener listener) {
        VectorTensorOps ops = new VectorTensorOps(1);
        closeables.add(ops);
        LlmEngine engine = new LlmEngine(weights, tokenizer, ops, config, listener);
        closeables.add(engine);
        return engine;
    }

    private static EngineConfig.Builder small() {
        return EngineConfig.builder().maxNumBatchedTokens(64).maxNumSeqs(8).numKvBlocks(128).maxModelLen(512);
    }

    /** Greedy tokens of one sequence through the single-sequence API: the reference. */
    private static int[] reference(int[] prompt, int maxTokens, boolean stopAtEos) {
        int eos = tokenizer.eosId().orElse(-1);
        try (VectorTensorOps ops = new VectorTensorOps(1)) {
            LlamaModel model = new LlamaModel(weights, ops, prompt.length + maxTokens, 64);
            float[] logits = new float[vocabSize];
            for (int start = 0; start < prompt.length; start += 64) {
                int n = Math.min(64, prompt.length - start);
                model.forwardLast(Arrays.copyOfRange(prompt, start, start + n), n, start, logits);
            }
            int[] out = new int[maxTokens];
            int numOut = 0;
            while (numOut < maxTokens) {
                int next = SequenceSampler.argmax(logits, 0, vocabSize);
                out[numOut++] = next;
                if (stopAtEos && next == eos) {
                    break;
                }
                model.forwardLast(new int[] {next}, 1, prompt.length + numOut - 1, logits);
            }
            return Arrays.copyOf(out, numOut);
        }
    }

    private static int[] prompt(int length, long seed) {
        Random random = new Random(seed);
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) {
            ids[i] = 3 + random.nextInt(vocabSize - 3);
        }
        return ids;
    }

    /** Collects one request's outputs. */
    static class Collector implements OutputSink {
        final List<RequestOutput> outputs = new CopyOnWriteArrayList<>();
        final CompletableFuture<RequestOutput> done = new CompletableFuture<>();

        @Override
        public void accept(RequestOutput output) {
            assertThat(done).as("no output after the final one").isNotDone();
            outputs.add(output);
            if (output.finished()) {
                done.complete(output);
            }
        }

        RequestOutput await() {
            return done.orTimeout(30, TimeUnit.SECONDS).join();
        }

        int[] tokenIds() {
            await();
            return outputs.stream().flatMapToInt(o -> Arrays.stream(o.newTokenIds())).toArray();
        }

        String text() {
            await();
            StringBuilder sb = new StringBuilder();
            outputs.forEach(o -> sb.append(o.text()));
            return sb.toString();
        }
    }

    private static Collector submit(LlmEngine engine, EngineRequest request) {
        Collector c = new Collector();
        engine.submit(request, c);
        return c;
    }

    private static EngineStats awaitStats(LlmEngine engine, Predicate<EngineStats> condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            EngineStats s = engine.stats();
            if (condition.test(s)) {
                return s;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("stats never satisfied the condition: " + engine.stats());
    }

    private static boolean await(CountDownLatch latch) {
        try {
            return latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private static SamplingParams greedy(int maxTokens) {
        return SamplingParams.builder().maxTokens(maxTokens).ignoreEos(true).build();
    }

    @Test
    void generate_oneGreedyRequest_equalsSingleSequenceReference() {
        LlmEngine engine = engine(small().build());
        int[] p = prompt(13, 1);
        Collector c = submit(engine, EngineRequest.of("r1", p, greedy(20)));
        RequestOutput last = c.await();
        assertThat(c.tokenIds()).containsExactly(reference(p, 20, false));
        assertThat(Arrays.stream(c.tokenIds()).distinct().count()).as("a non-degenerate reference").isGreaterThan(5);
        assertThat(last.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(last.usage()).isEqualTo(new RequestOutput.Usage(13, 20, 0));
        assertThat(c.text()).isEqualTo(tokenizer.decode(c.tokenIds(), true));
        RequestOutput.Timings t = last.timings();
        assertThat(t.arrivalNanos()).isLessThanOrEqualTo(t.firstScheduledNanos());
        assertThat(t.firstScheduledNanos()).isLessThanOrEqualTo(t.firstTokenNanos());
        assertThat(t.firstTokenNanos()).isLessThanOrEqualTo(t.lastTokenNanos());
        assertThat(t.lastTokenNanos()).isLessThanOrEqualTo(t.finishedNanos());
        EngineStats stats = awaitStats(engine, s -> s.numRunning() == 0 && s.generationTokens() == 20);
        assertThat(stats.numFreeBlocks()).isEqualTo(stats.numTotalBlocks());
        assertThat(stats.promptTokens()).isEqualTo(13);
    }

    @Test
    void ofText_tokenizesAsAPromptAndDecodesTheOutput() {
        LlmEngine engine = engine(small().build());
        EngineRequest request = EngineRequest.ofText("t", "hello world, once more", greedy(8), tokenizer);
        assertThat(request.promptIds()).containsExactly(tokenizer.encode("hello world, once more",
                Tokenizer.EncodeOptions.PROMPT));
        Collector c = submit(engine, request);
        assertThat(c.tokenIds()).containsExactly(reference(request.promptIds(), 8, false));
        assertThat(c.text()).isEqualTo(tokenizer.decode(c.tokenIds(), true));
    }

    @Test
    void generate_defaultStopsAtEos_likeTheReference() {
        LlmEngine engine = engine(small().build());
        int[] p = prompt(9, 2);
        Collector c = submit(engine, EngineRequest.of("r1", p, SamplingParams.greedy(40)));
        int[] expected = reference(p, 40, true);
        assertThat(c.tokenIds()).containsExactly(expected);
        assertThat(c.await().finishReason()).isEqualTo(expected.length < 40 ? FinishReason.STOP : FinishReason.LENGTH);
    }

    @Test
    void generate_sixConcurrentRequests_eachEqualsItsSoloReference() {
        LlmEngine engine = engine(small().maxNumBatchedTokens(48).maxNumSeqs(6).build());
        int[] lengths = {1, 5, 17, 33, 60, 9};
        int[][] prompts = new int[6][];
        Collector[] collectors = new Collector[6];
        for (int i = 0; i < 6; i++) {
            prompts[i] = prompt(lengths[i], 10 + i);
            collectors[i] = submit(engine, EngineRequest.of("r" + i, prompts[i], greedy(12 + i)));
        }
        for (int i = 0; i < 6; i++) {
            assertThat(collectors[i].tokenIds()).as("request %d", i).containsExactly(reference(prompts[i], 12 + i, false));
        }
        EngineStats stats = awaitStats(engine, s -> s.numRunning() == 0 && s.numWaiting() == 0);
        assertThat(stats.numSteps()).as("batched: fewer steps than tokens").isLessThan(6 * 12);
        assertThat(stats.numFreeBlocks()).isEqualTo(stats.numTotalBlocks());
    }

    @Test
    void generate_promptLongerThanTokenBudget_isChunkedAndEqualsReference() {
        LlmEngine engine = engine(small().maxNumBatchedTokens(8).maxNumSeqs(4).build());
        int[] p = prompt(40, 3);
        Collector c = submit(engine, EngineRequest.of("r1", p, greedy(10)));
        assertThat(c.tokenIds()).containsExactly(reference(p, 10, false));
        EngineStats stats = awaitStats(engine, s -> s.generationTokens() == 10 && s.numRunning() == 0);
        assertThat(stats.numSteps()).as("5 prompt chunks, then 9 decodes").isEqualTo(5 + 9);
    }

    @Test
    void generate_sharedThreeBlockPrefix_hitsCacheAndEqualsUncachedOutput() {
        List<KvEvent> events = new CopyOnWriteArrayList<>();
        LlmEngine engine = engine(small().build(), events::add);
        int[] a = prompt(56, 4);
        int[] b = prompt(60, 5);
        System.arraycopy(a, 0, b, 0, 48);
        submit(engine, EngineRequest.of("a", a, greedy(8))).await();
        Collector cb = submit(engine, EngineRequest.of("b", b, greedy(12)));
        assertThat(cb.await().usage().cachedPromptTokens()).isEqualTo(48);
        assertThat(events).filteredOn(e -> e instanceof KvEvent.BlockStored).isNotEmpty();

        LlmEngine uncached = engine(small().enablePrefixCaching(false).build());
        Collector fresh = submit(uncached, EngineRequest.of("b", b, greedy(12)));
        assertThat(fresh.await().usage().cachedPromptTokens()).isZero();
        assertThat(cb.tokenIds()).containsExactly(fresh.tokenIds());
        assertThat(cb.tokenIds()).containsExactly(reference(b, 12, false));
        EngineStats stats = awaitStats(engine, s -> s.numRunning() == 0);
        assertThat(stats.prefixCacheHits()).isEqualTo(48);
    }

    @Test
    void reannounceKvCache_afterEvictions_announcesExactlyTheCachedHashesParentsFirst() {
        List<KvEvent> events = new CopyOnWriteArrayList<>();
        LlmEngine engine = engine(small().numKvBlocks(12).build(), events::add);
        for (int i = 0; i < 6; i++) { // 6 prompts of 3-4 full blocks through 12 blocks: some are evicted
            submit(engine, EngineRequest.of("r" + i, prompt(50 + 4 * i, 40 + i), greedy(4))).await();
        }
        awaitStats(engine, s -> s.numRunning() == 0);
        Set<BlockHash> cached = new HashSet<>();
        for (KvEvent e : events) {
            switch (e) {
                case KvEvent.BlockStored s -> cached.add(s.hash());
                case KvEvent.BlockRemoved r -> cached.remove(r.hash());
                case KvEvent.AllCleared c -> cached.clear();
            }
        }
        assertThat(events).filteredOn(e -> e instanceof KvEvent.BlockRemoved).isNotEmpty();
        int numBefore = events.size();

        engine.reannounceKvCache();

        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (events.size() < numBefore + 1 + cached.size() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        List<KvEvent> announced = events.subList(numBefore, events.size());
        assertThat(announced.getFirst()).isEqualTo(new KvEvent.AllCleared());
        Set<BlockHash> seen = new HashSet<>();
        for (KvEvent e : announced.subList(1, announced.size())) {
            KvEvent.BlockStored s = (KvEvent.BlockStored) e;
            s.parentHash().filter(cached::contains).ifPresent(p -> assertThat(seen).as("parent of %s", s.hash()).contains(p));
            assertThat(seen.add(s.hash())).isTrue();
            assertThat(s.numTokens()).isEqualTo(16);
        }
        assertThat(seen).isEqualTo(cached).isNotEmpty();
    }

    @Test
    void generate_sameSharedPrefixDifferentTenantSalts_noHit() {
        LlmEngine engine = engine(small().build());
        int[] p = prompt(50, 6);
        submit(engine, EngineRequest.of("a", p, greedy(4)).withTenant("ta", SALT_A, 0)).await();
        RequestOutput other = submit(engine, EngineRequest.of("b", p, greedy(4)).withTenant("tb", SALT_B, 0)).await();
        assertThat(other.usage().cachedPromptTokens()).isZero();
        RequestOutput same = submit(engine, EngineRequest.of("c", p, greedy(4)).withTenant("ta", SALT_A, 0)).await();
        assertThat(same.usage().cachedPromptTokens()).isEqualTo(48);
        // a published first block hits across tenants, the private rest does not
        submit(engine, EngineRequest.of("d", p, greedy(4)).withTenant("ta", SALT_A, 1)).await();
        RequestOutput published = submit(engine, EngineRequest.of("e", p, greedy(4)).withTenant("tb", SALT_B, 1)).await();
        assertThat(published.usage().cachedPromptTokens()).isEqualTo(16);
    }

    @Test
    void generate_tinyKvPool_preemptsAndStillMatchesReferences() {
        // 10 blocks of 16 = 160 slots; four requests of up to 20 + 40 tokens need 16 blocks together
        LlmEngine engine = engine(small().numKvBlocks(10).maxNumBatchedTokens(32).build());
        int[][] prompts = new int[4][];
        Collector[] collectors = new Collector[4];
        for (int i = 0; i < 4; i++) {
            prompts[i] = prompt(14 + 2 * i, 20 + i);
            collectors[i] = submit(engine, EngineRequest.of("r" + i, prompts[i], greedy(40)));
        }
        for (int i = 0; i < 4; i++) {
            assertThat(collectors[i].tokenIds()).as("request %d", i).containsExactly(reference(prompts[i], 40, false));
            assertThat(collectors[i].await().finishReason()).isEqualTo(FinishReason.LENGTH);
        }
        EngineStats stats = awaitStats(engine, s -> s.numRunning() == 0);
        assertThat(stats.numPreemptions()).isPositive();
        assertThat(stats.numFreeBlocks()).isEqualTo(10);
    }

    /**
     * The spec matrix: block size x prefix caching x pool size. Five requests, three of them sharing a
     * 40-token prefix, arrive together; every output must equal its solo reference, the pool must be
     * whole again at the end, and hits must appear exactly when caching is on.
     */
    @ParameterizedTest(name = "blockSize {0}, prefixCaching {1}, blocks {2}")
    @CsvSource({"4, true, 200", "4, true, 40", "4, false, 40", "16, true, 60", "16, true, 10", "16, false, 10",
            "32, true, 5", "32, false, 30"})
    void generate_matrix_everyRequestEqualsItsSoloReference(int blockSize, boolean prefixCaching, int numBlocks) {
        LlmEngine engine = engine(small().blockSize(blockSize).enablePrefixCaching(prefixCaching).numKvBlocks(numBlocks)
                .maxNumBatchedTokens(32).maxNumSeqs(4).build());
        int[] shared = prompt(40, 40);
        int[][] prompts = new int[5][];
        for (int i = 0; i < 5; i++) {
            int[] own = prompt(3 + 7 * i, 50 + i);
            if (i % 2 == 0) {
                prompts[i] = Arrays.copyOf(shared, 40 + own.length);
                System.arraycopy(own, 0, prompts[i], 40, own.length);
            } else {
                prompts[i] = own;
            }
        }
        Collector[] collectors = new Collector[5];
        for (int i = 0; i < 5; i++) {
            collectors[i] = submit(engine, EngineRequest.of("r" + i, prompts[i], greedy(14)));
        }
        for (int i = 0; i < 5; i++) {
            assertThat(collectors[i].tokenIds()).as("request %d", i).containsExactly(reference(prompts[i], 14, false));
        }
        EngineStats stats = awaitStats(engine, s -> s.numRunning() == 0 && s.numWaiting() == 0);
        assertThat(stats.numFreeBlocks()).isEqualTo(numBlocks);
        if (!prefixCaching) {
            assertThat(stats.prefixCacheHits()).isZero();
        } else if (numBlocks * blockSize >= 5 * 64) {
            assertThat(stats.prefixCacheHits()).as("the shared prefix is reused").isPositive();
        }
    }

    @Test
    void abort_midGeneration_freesAllBlocksAndSendsAbort() {
        LlmEngine engine = engine(small().build());
        Collector c = new Collector() {
            @Override
            public void accept(RequestOutput output) {
                super.accept(output);
                if (outputs.size() == 3) {
                    engineRef[0].abort("r1");
                }
            }
        };
        engineRef[0] = engine;
        engine.submit(EngineRequest.of("r1", prompt(30, 7), greedy(400)), c);
        RequestOutput last = c.await();
        assertThat(last.finishReason()).isEqualTo(FinishReason.ABORT);
        assertThat(last.usage().completionTokens()).isBetween(3, 10);
        EngineStats stats = awaitStats(engine, s -> s.numRunning() == 0);
        assertThat(stats.numFreeBlocks()).isEqualTo(stats.numTotalBlocks());
        engine.abort("r1"); // unknown by now: ignored
        engine.abort("never-existed");
        assertThat(submit(engine, EngineRequest.of("r1", prompt(5, 8), greedy(3))).await().finishReason())
                .as("the id is free again").isEqualTo(FinishReason.LENGTH);
    }

    private final LlmEngine[] engineRef = new LlmEngine[1];

    @Test
    void submit_badRequests_rejectedWhileARunningStreamContinues() {
        LlmEngine engine = engine(small().maxNumSeqs(1).maxNumWaiting(2).maxModelLen(256).numKvBlocks(40).build());
        int[] p = prompt(12, 9);
        // the stream's first output holds the engine thread until the rejections are done, so they happen
        // while it is mid-generation (a real sink must never block; this one does to pin the interleaving)
        CountDownLatch firstOutput = new CountDownLatch(1);
        CountDownLatch rejectionsDone = new CountDownLatch(1);
        Collector running = new Collector() {
            @Override
            public void accept(RequestOutput output) {
                super.accept(output);
                if (outputs.size() == 1) {
                    firstOutput.countDown();
                    try {
                        rejectionsDone.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        engine.submit(EngineRequest.of("ok", p, greedy(120)), running);
        assertThat(await(firstOutput)).isTrue();

        assertThatThrownBy(() -> engine.submit(EngineRequest.of("x1", new int[0], greedy(4)), new Collector()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.param()).isEqualTo("prompt"));
        assertThatThrownBy(() -> engine.submit(EngineRequest.of("x2", new int[] {1, vocabSize}, greedy(4)), new Collector()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.param()).isEqualTo("prompt"))
                .hasMessageContaining(String.valueOf(vocabSize));
        assertThatThrownBy(() -> engine.submit(EngineRequest.of("x3", prompt(256, 1), greedy(4)), new Collector()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.param()).isEqualTo("prompt"))
                .hasMessageContaining("256");
        SamplingParams badBias = SamplingParams.builder().logitBias(Map.of(vocabSize + 5, 1f)).build();
        assertThatThrownBy(() -> engine.submit(EngineRequest.of("x4", p, badBias), new Collector()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.param()).isEqualTo("logit_bias"));
        SamplingParams badStop = SamplingParams.builder().stopTokenIds(Set.of(-1)).build();
        assertThatThrownBy(() -> engine.submit(EngineRequest.of("x5", p, badStop), new Collector()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.param()).isEqualTo("stop_token_ids"));
        assertThatThrownBy(() -> engine.submit(EngineRequest.of("x6", p, greedy(4)).withTenant("t", new byte[8], 0),
                new Collector()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.param()).isEqualTo("cache_salt"));
        assertThatThrownBy(() -> engine.submit(EngineRequest.of("ok", p, greedy(4)), new Collector()))
                .isInstanceOf(InvalidRequestException.class).hasMessageContaining("already in use");
        // 40 blocks = 640 slots, but maxModelLen 256 caps max_tokens: accepted, ends with LENGTH at 256 tokens
        Collector capped = submit(engine, EngineRequest.of("capped", p, greedy(10_000)));
        Collector queued = submit(engine, EngineRequest.of("queued", p, greedy(2)));
        assertThatThrownBy(() -> engine.submit(EngineRequest.of("too-many", p, greedy(2)), new Collector()))
                .isInstanceOf(QueueFullException.class);
        rejectionsDone.countDown();
        engine.abort("queued"); // a waiting request: aborted before it ran, its queue place is given back
        RequestOutput abortedWhileWaiting = queued.await();
        assertThat(abortedWhileWaiting.finishReason()).isEqualTo(FinishReason.ABORT);
        assertThat(abortedWhileWaiting.usage().completionTokens()).isZero();
        assertThat(abortedWhileWaiting.timings().firstScheduledNanos()).isEqualTo(-1);
        Collector later = submit(engine, EngineRequest.of("later", p, greedy(2)));

        assertThat(running.tokenIds()).containsExactly(reference(p, 120, false));
        assertThat(running.await().finishReason()).isEqualTo(FinishReason.LENGTH);
        RequestOutput cappedLast = capped.await();
        assertThat(cappedLast.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(cappedLast.usage().completionTokens()).isEqualTo(256 - 12);
        assertThat(later.await().finishReason()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void submit_promptPlusMaxTokensBeyondKvPool_rejectedWithTheFix() {
        LlmEngine engine = engine(small().numKvBlocks(4).build());
        assertThatThrownBy(() -> engine.submit(EngineRequest.of("big", prompt(30, 1), greedy(100)), new Collector()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.param()).isEqualTo("max_tokens"))
                .hasMessageContaining("lower max_tokens to at most 35");
        // exactly 64 slots: 30 prompt + 35 tokens feeds 64 positions
        assertThat(submit(engine, EngineRequest.of("fits", prompt(30, 1), greedy(35))).await().finishReason())
                .isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void generate_stopStringAndStopToken_finishWithStopAndTextExcludesIt() {
        LlmEngine engine = engine(small().build());
        int[] p = prompt(11, 12);
        Collector free = submit(engine, EngineRequest.of("free", p, greedy(30)));
        int[] ids = free.tokenIds();
        String text = free.text();
        assertThat(text).hasSizeGreaterThan(12);

        String stop = text.substring(6, 9);
        int at = text.indexOf(stop);
        Collector stopped = submit(engine, EngineRequest.of("s", p,
                SamplingParams.builder().maxTokens(30).ignoreEos(true).stop(List.of(stop)).build()));
        assertThat(stopped.await().finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(stopped.text()).isEqualTo(text.substring(0, at));

        int stopId = ids[5];
        int first = 0;
        while (ids[first] != stopId) {
            first++;
        }
        Collector byToken = submit(engine, EngineRequest.of("t", p,
                SamplingParams.builder().maxTokens(30).ignoreEos(true).stopTokenIds(Set.of(stopId)).build()));
        assertThat(byToken.await().finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(byToken.tokenIds()).containsExactly(Arrays.copyOf(ids, first + 1));
        assertThat(byToken.text()).isEqualTo(tokenizer.decode(Arrays.copyOf(ids, first), true));
    }

    @Test
    void generate_seededSampling_sameTokensAloneOrInABatch() {
        SamplingParams seeded = SamplingParams.builder().maxTokens(16).ignoreEos(true).temperature(0.9).topP(0.95)
                .seed(42).logprobs(2).build();
        int[] p = prompt(21, 13);
        LlmEngine alone = engine(small().build());
        Collector solo = submit(alone, EngineRequest.of("s", p, seeded));

        LlmEngine busy = engine(small().maxNumBatchedTokens(24).build());
        List<Collector> others = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            others.add(submit(busy, EngineRequest.of("o" + i, prompt(7 + 9 * i, 30 + i),
                    SamplingParams.builder().maxTokens(20).temperature(1.0).build())));
        }
        Collector batched = submit(busy, EngineRequest.of("s", p, seeded));
        assertThat(batched.tokenIds()).containsExactly(solo.tokenIds());
        assertThat(batched.outputs).allSatisfy(o -> assertThat(o.logprobs()).hasSize(o.newTokenIds().length));
        assertThat(batched.outputs.getFirst().logprobs().getFirst().topLogprobs()).hasSize(2);
        others.forEach(Collector::await);
    }

    @Test
    void generate_identicalPromptsAdmittedInOneStep_secondHitsBlocksWrittenThatStep() {
        LlmEngine engine = engine(small().build());
        int[] p = prompt(40, 17);
        // a gate request holds the engine thread in its sink until a and b are both queued, so the
        // next step admits both: b hits the 2 full blocks a's allocation cached, written in that same step
        CountDownLatch queued = new CountDownLatch(1);
        Collector gate = new Collector() {
            @Override
            public void accept(RequestOutput output) {
                super.accept(output);
                if (outputs.size() == 1) {
                    LlmEngineTest.await(queued);
                }
            }
        };
        engine.submit(EngineRequest.of("gate", prompt(3, 19), greedy(3)), gate);
        Collector first = submit(engine, EngineRequest.of("a", p, greedy(10)));
        Collector second = submit(engine, EngineRequest.of("b", p, greedy(10)));
        queued.countDown();
        int[] expected = reference(p, 10, false);
        assertThat(first.tokenIds()).containsExactly(expected);
        assertThat(second.tokenIds()).containsExactly(expected);
        assertThat(second.await().usage().cachedPromptTokens()).isEqualTo(32);
        gate.await();
    }

    @Test
    void backend_runnerIsMadeForTheConfiguredCacheRunsAndIsClosedOnTheLoopThreadOnce() {
        VectorTensorOps ops = new VectorTensorOps(1);
        closeables.add(ops);
        Set<String> forwardThreads = ConcurrentHashMap.newKeySet();
        List<String> closeThreads = new CopyOnWriteArrayList<>();
        int[] created = new int[3];
        Backend backend = new Backend() {
            @Override
            public String name() {
                return "recording";
            }

            @Override
            public String description() {
                return "the CPU runner, recording its threads";
            }

            @Override
            public ModelRunner createRunner(LlamaWeights w, int numKvBlocks, int blockSize, KvCacheDtype dtype,
                                            int maxBatchTokens) {
                created[0] = numKvBlocks;
                created[1] = blockSize;
                created[2] = maxBatchTokens;
                ModelRunner cpu = CpuBackend.over(ops).createRunner(w, numKvBlocks, blockSize, dtype, maxBatchTokens);
                return new ModelRunner() {
                    @Override
                    public ModelConfig config() {
                        return cpu.config();
                    }

                    @Override
                    public int maxBatchTokens() {
                        return cpu.maxBatchTokens();
                    }

                    @Override
                    public void forward(ForwardBatch batch, float[] logitsOut) {
                        forwardThreads.add(Thread.currentThread().getName());
                        cpu.forward(batch, logitsOut);
                    }

                    @Override
                    public void close() {
                        closeThreads.add(Thread.currentThread().getName());
                    }
                };
            }
        };
        LlmEngine engine = new LlmEngine(weights, tokenizer, backend, small().build(), KvEventListener.NONE, null);
        int[] p = prompt(20, 3);
        Collector c = submit(engine, EngineRequest.of("r1", p, greedy(8)));
        assertThat(c.tokenIds()).containsExactly(reference(p, 8, false));
        engine.close();

        assertThat(created).containsExactly(128, 16, 64);
        assertThat(forwardThreads).hasSize(1).allMatch(name -> name.startsWith("kvserve-engine-"));
        assertThat(closeThreads).isEqualTo(List.copyOf(forwardThreads));
    }

    @Test
    void forward_throwing_failsThatStepsRequestsWithErrorAndTheLoopGoesOn() {
        AtomicBoolean failNext = new AtomicBoolean();
        VectorTensorOps real = new VectorTensorOps(1);
        closeables.add(real);
        TensorOps failing = (TensorOps) Proxy.newProxyInstance(TensorOps.class.getClassLoader(),
                new Class<?>[] {TensorOps.class}, (proxy, method, args) -> {
                    if (method.getName().equals("attention") && failNext.getAndSet(false)) {
                        throw new IllegalStateException("injected kernel failure");
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        LlmEngine engine = new LlmEngine(weights, tokenizer, failing, small().build(), KvEventListener.NONE);
        closeables.add(engine);
        Collector doomed = new Collector() {
            @Override
            public void accept(RequestOutput output) {
                super.accept(output);
                if (outputs.size() == 2) {
                    failNext.set(true);
                }
            }
        };
        // 30 prompt tokens, 2 generated: the failed step feeds token 31, filling block 1 (16..31), which
        // was cached when allocated for that step; block 0 was written by the prefill
        int[] doomedPrompt = prompt(30, 18);
        engine.submit(EngineRequest.of("doomed", doomedPrompt, greedy(50)), doomed);
        RequestOutput last = doomed.await();
        assertThat(last.finishReason()).isEqualTo(FinishReason.ERROR);
        assertThat(last.usage().completionTokens()).isEqualTo(2);

        // doomed's 32 tokens and one more: block 0 may be hit, block 1 from the failed step must not be
        int[] p = Arrays.copyOf(doomedPrompt, 33);
        System.arraycopy(doomed.tokenIds(), 0, p, 30, 2);
        p[32] = 5;
        Collector after = submit(engine, EngineRequest.of("after", p, greedy(12)));
        assertThat(after.tokenIds()).containsExactly(reference(p, 12, false));
        assertThat(after.await().usage().cachedPromptTokens()).isEqualTo(16);
        EngineStats stats = awaitStats(engine, s -> s.numRunning() == 0);
        assertThat(stats.numFreeBlocks()).isEqualTo(stats.numTotalBlocks());
    }

    @Test
    void sink_throwing_abortsOnlyItsRequest() {
        LlmEngine engine = engine(small().build());
        engine.submit(EngineRequest.of("bad", prompt(10, 14), greedy(50)), o -> {
            throw new IllegalStateException("client went away");
        });
        int[] p = prompt(10, 15);
        Collector good = submit(engine, EngineRequest.of("good", p, greedy(20)));
        assertThat(good.tokenIds()).containsExactly(reference(p, 20, false));
        EngineStats stats = awaitStats(engine, s -> s.numRunning() == 0 && s.numWaiting() == 0);
        assertThat(stats.numFreeBlocks()).isEqualTo(stats.numTotalBlocks());
    }

    @Test
    void close_withLiveRequests_abortsThem() {
        LlmEngine engine = engine(small().build());
        Collector c = submit(engine, EngineRequest.of("r", prompt(10, 16), greedy(400)));
        engine.close();
        assertThat(c.await().finishReason()).isIn(FinishReason.ABORT, FinishReason.LENGTH);
        assertThatThrownBy(() -> engine.submit(EngineRequest.of("late", prompt(3, 1), greedy(2)), new Collector()))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void config_inconsistentLimits_rejectedWithTheFix() {
        assertThatThrownBy(() -> EngineConfig.builder().maxNumBatchedTokens(8).maxNumSeqs(16).build())
                .hasMessageContaining("raise maxNumBatchedTokens to 16");
        assertThatThrownBy(() -> engine(EngineConfig.builder().maxModelLen(100_000).build()))
                .hasMessageContaining("context length 2048");
    }
}
