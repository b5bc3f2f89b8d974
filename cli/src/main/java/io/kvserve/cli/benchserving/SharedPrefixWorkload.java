package io.kvserve.cli.benchserving;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Multi-tenant shared prefixes, the workload a cache-aware router is for: T tenants, each with its own
 * long system prompt, asking short questions; in front of every system prompt one operator-published
 * prefix that all tenants share. Request i belongs to a tenant drawn uniformly from the seed and i.
 *
 * <pre>
 *   system: [published prefix, same for all]  [tenant t's system prompt: "Tenant t. " + words]
 *   user:   [question of request i]
 *           └── shared by all ──┘└──── shared by tenant t's requests ────┘└─ never shared ─┘
 * </pre>
 *
 * Each tenant's system prompt opens with its name, so two tenants' prompts part right after the
 * published prefix. Lengths are in words, about one token each; a tenant's system-prompt length is
 * drawn once from {@code [systemPromptMinLen, systemPromptMaxLen]}.
 */
final class SharedPrefixWorkload implements Workload {

    private final long seed;
    private final List<String> tenants;
    private final int sharedPrefixLen;
    private final int systemPromptMinLen;
    private final int systemPromptMaxLen;
    private final int questionLen;
    private final int outputLen;
    private final String publishedPrefix;
    private final Map<String, String> systemPrompts = new LinkedHashMap<>();
    private final Map<String, Integer> systemPromptLens = new LinkedHashMap<>();

    SharedPrefixWorkload(long seed, List<String> tenants, int sharedPrefixLen, int systemPromptMinLen, int systemPromptMaxLen,
                         int questionLen, int outputLen) {
        if (tenants.isEmpty()) {
            throw new IllegalArgumentException("the shared-prefix workload needs at least one tenant (--tenants N)");
        }
        if (sharedPrefixLen < 0 || systemPromptMinLen < 1 || systemPromptMaxLen < systemPromptMinLen || questionLen < 1 || outputLen < 1) {
            throw new IllegalArgumentException("shared-prefix: --shared-prefix-len " + sharedPrefixLen + " must be >= 0, --system-prompt-len "
                    + systemPromptMinLen + ":" + systemPromptMaxLen + " must be 1 <= MIN <= MAX, --question-len " + questionLen
                    + " and --output-len " + outputLen + " >= 1");
        }
        this.seed = seed;
        this.tenants = List.copyOf(tenants);
        this.sharedPrefixLen = sharedPrefixLen;
        this.systemPromptMinLen = systemPromptMinLen;
        this.systemPromptMaxLen = systemPromptMaxLen;
        this.questionLen = questionLen;
        this.outputLen = outputLen;
        this.publishedPrefix = Words.text(seed, "published", 0, 0, sharedPrefixLen);
        for (int t = 0; t < this.tenants.size(); t++) {
            SplittableRandom random = Words.stream(seed, "system", t, 0);
            int len = random.nextInt(systemPromptMinLen, systemPromptMaxLen + 1);
            systemPrompts.put(this.tenants.get(t), "Tenant " + this.tenants.get(t) + ". " + Words.text(random, len));
            systemPromptLens.put(this.tenants.get(t), len + 2);
        }
    }

    @Override
    public String name() {
        return "shared-prefix";
    }

    @Override
    public List<String> tenants() {
        return tenants;
    }

    /** The operator-published prefix every request starts with. */
    String publishedPrefix() {
        return publishedPrefix;
    }

    /** The system message of {@code tenant}'s requests: the published prefix, then the tenant's own prompt. */
    String systemMessage(String tenant) {
        String own = systemPrompts.get(tenant);
        return publishedPrefix.isEmpty() ? own : publishedPrefix + " " + own;
    }

    @Override
    public BenchRequest request(int index) {
        SplittableRandom random = Words.stream(seed, "question", index, 0);
        String tenant = tenants.get(random.nextInt(tenants.size()));
        String system = systemMessage(tenant);
        String question = Words.text(random, questionLen) + "?";
        int numTokensHint = sharedPrefixLen + systemPromptLens.get(tenant) + questionLen;
        return BenchRequest.chat(index, List.of(new BenchRequest.ChatMessage("system", system),
                new BenchRequest.ChatMessage("user", question)), numTokensHint, outputLen, tenant);
    }

    @Override
    public Map<String, Object> params() {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("tenants", tenants);
        params.put("shared_prefix_len", sharedPrefixLen);
        params.put("system_prompt_min_len", systemPromptMinLen);
        params.put("system_prompt_max_len", systemPromptMaxLen);
        params.put("question_len", questionLen);
        params.put("output_len", outputLen);
        return params;
    }
}
