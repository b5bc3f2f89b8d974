package io.kvserve.cli.benchserving;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Few-shot templates: one instruction header shared by every request, then {@code numShots} examples
 * picked (without repetition, in a random order) from a fixed pool of {@code numExamples}, then the
 * request's own question. Only the header is shared by all; a longer prefix is shared only by requests
 * that happen to pick the same first examples, which is the point: reuse that depends on the order.
 *
 * <pre>
 *   [header]  Q: [example e1] A: [answer e1]  ...  Q: [example ek] A: [answer ek]  Q: [question i] A:
 * </pre>
 */
final class FewShotWorkload implements Workload {

    private final long seed;
    private final List<String> tenants;
    private final int headerLen;
    private final int numExamples;
    private final int numShots;
    private final int exampleLen;
    private final int questionLen;
    private final int outputLen;
    private final String header;
    private final List<String> examples = new ArrayList<>();

    FewShotWorkload(long seed, List<String> tenants, int headerLen, int numExamples, int numShots, int exampleLen,
                    int questionLen, int outputLen) {
        if (headerLen < 0 || numExamples < 1 || numShots < 1 || numShots > numExamples || exampleLen < 1 || questionLen < 1 || outputLen < 1) {
            throw new IllegalArgumentException("few-shot: --shared-prefix-len " + headerLen + " must be >= 0, --num-shots " + numShots
                    + " between 1 and --num-examples " + numExamples + ", --example-len " + exampleLen + ", --question-len "
                    + questionLen + " and --output-len " + outputLen + " >= 1");
        }
        this.seed = seed;
        this.tenants = List.copyOf(tenants);
        this.headerLen = headerLen;
        this.numExamples = numExamples;
        this.numShots = numShots;
        this.exampleLen = exampleLen;
        this.questionLen = questionLen;
        this.outputLen = outputLen;
        this.header = Words.text(seed, "header", 0, 0, headerLen);
        for (int e = 0; e < numExamples; e++) {
            SplittableRandom random = Words.stream(seed, "example", e, 0);
            examples.add("Q: " + Words.text(random, exampleLen) + "\nA: " + Words.text(random, Math.max(1, exampleLen / 2)));
        }
    }

    @Override
    public String name() {
        return "few-shot";
    }

    @Override
    public List<String> tenants() {
        return tenants;
    }

    String header() {
        return header;
    }

    /** The pool indices of request {@code index}'s examples, in prompt order. */
    int[] exampleIds(int index) {
        SplittableRandom random = Words.stream(seed, "shots", index, 0);
        int[] pool = new int[numExamples];
        for (int i = 0; i < numExamples; i++) {
            pool[i] = i;
        }
        for (int i = 0; i < numShots; i++) { // partial Fisher-Yates: the first numShots of a random permutation
            int j = random.nextInt(i, numExamples);
            int t = pool[i];
            pool[i] = pool[j];
            pool[j] = t;
        }
        return java.util.Arrays.copyOf(pool, numShots);
    }

    @Override
    public BenchRequest request(int index) {
        StringBuilder prompt = new StringBuilder(header);
        for (int e : exampleIds(index)) {
            prompt.append("\n\n").append(examples.get(e));
        }
        SplittableRandom random = Words.stream(seed, "question", index, 0);
        prompt.append("\n\nQ: ").append(Words.text(random, questionLen)).append("\nA:");
        String tenant = tenants.isEmpty() ? null : tenants.get(random.nextInt(tenants.size()));
        int numTokensHint = headerLen + numShots * (exampleLen + Math.max(1, exampleLen / 2) + 4) + questionLen + 4;
        return new BenchRequest(index, prompt.toString(), null, numTokensHint, outputLen, tenant, null);
    }

    @Override
    public Map<String, Object> params() {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("tenants", tenants);
        params.put("header_len", headerLen);
        params.put("num_examples", numExamples);
        params.put("num_shots", numShots);
        params.put("example_len", exampleLen);
        params.put("question_len", questionLen);
        params.put("output_len", outputLen);
        return params;
    }
}
