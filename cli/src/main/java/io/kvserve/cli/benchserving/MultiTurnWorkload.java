package io.kvserve.cli.benchserving;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Multi-turn chats that grow turn by turn: turn k of a conversation sends the system prompt, the k
 * earlier user turns with their answers, and the new user turn. The earlier answers are deterministic
 * stand-ins ({@code outputLen} words drawn from the seed), not the model's answers as returned: so a
 * request does not depend on an earlier response, the same seed sends the same bytes to every server,
 * and an open-loop schedule stays independent of the server. The cost: turn k-1's prompt (with
 * the stand-ins of answers 0..k-2) is cached, but the server cached its own answer k-1, not the
 * stand-in, so turn k reuses at most its prompt up to the end of user turn k-1: about one answer's
 * tokens fewer per turn than a real chat reuses.
 *
 * <p>Requests interleave {@code numConversations} conversations, so turn k-1 of a conversation is
 * sent {@code numConversations} requests before its turn k (and, in a closed loop with fewer users
 * than conversations, has ended by then):
 * <pre>
 *   index:  0    1    ..  C-1    C    C+1  ..  2C-1  ..  C*turns  ..
 *           c0t0 c1t0 ..  cC-1t0 c0t1 c1t1 ..  cC-1t1 ..  cCt0 (the next C conversations)
 * </pre>
 */
final class MultiTurnWorkload implements Workload {

    private final long seed;
    private final List<String> tenants;
    private final int systemPromptLen;
    private final int numConversations;
    private final int numTurns;
    private final int questionLen;
    private final int outputLen;
    private final String systemPrompt;

    MultiTurnWorkload(long seed, List<String> tenants, int systemPromptLen, int numConversations, int numTurns, int questionLen,
                      int outputLen) {
        if (systemPromptLen < 0 || numConversations < 1 || numTurns < 1 || questionLen < 1 || outputLen < 1) {
            throw new IllegalArgumentException("multi-turn: --shared-prefix-len " + systemPromptLen + " must be >= 0, --conversations "
                    + numConversations + ", --turns " + numTurns + ", --question-len " + questionLen + " and --output-len "
                    + outputLen + " >= 1");
        }
        this.seed = seed;
        this.tenants = List.copyOf(tenants);
        this.systemPromptLen = systemPromptLen;
        this.numConversations = numConversations;
        this.numTurns = numTurns;
        this.questionLen = questionLen;
        this.outputLen = outputLen;
        this.systemPrompt = Words.text(seed, "system", 0, 0, systemPromptLen);
    }

    @Override
    public String name() {
        return "multi-turn";
    }

    @Override
    public List<String> tenants() {
        return tenants;
    }

    /** The conversation request {@code index} belongs to (numbered across the whole run). */
    int conversation(int index) {
        int perBlock = numConversations * numTurns;
        return (index / perBlock) * numConversations + index % numConversations;
    }

    /** Its turn within the conversation, from 0. */
    int turn(int index) {
        return (index % (numConversations * numTurns)) / numConversations;
    }

    @Override
    public BenchRequest request(int index) {
        int conversation = conversation(index);
        int turn = turn(index);
        List<BenchRequest.ChatMessage> messages = new ArrayList<>(2 * turn + 2);
        if (systemPromptLen > 0) {
            messages.add(new BenchRequest.ChatMessage("system", systemPrompt));
        }
        for (int k = 0; k <= turn; k++) {
            messages.add(new BenchRequest.ChatMessage("user", Words.text(seed, "user", conversation, k, questionLen) + "?"));
            if (k < turn) {
                messages.add(new BenchRequest.ChatMessage("assistant", Words.text(seed, "answer", conversation, k, outputLen)));
            }
        }
        String tenant = tenants.isEmpty() ? null : tenants.get(conversation % tenants.size());
        int numTokensHint = systemPromptLen + (turn + 1) * questionLen + turn * outputLen;
        return BenchRequest.chat(index, messages, numTokensHint, outputLen, tenant);
    }

    @Override
    public Map<String, Object> params() {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("tenants", tenants);
        params.put("system_prompt_len", systemPromptLen);
        params.put("conversations", numConversations);
        params.put("turns", numTurns);
        params.put("question_len", questionLen);
        params.put("output_len", outputLen);
        params.put("earlier_answers", "stand-in");
        return params;
    }
}
