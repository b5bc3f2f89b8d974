package io.kvserve.common.openai;

/**
 * Token counts of a response, as OpenAI writes them.
 *
 * @param promptTokens        prompt tokens (per choice the same prompt; counted once)
 * @param completionTokens    tokens generated over all choices
 * @param totalTokens         prompt plus completion
 * @param promptTokensDetails of the prompt, how many came from the prefix cache
 */
public record Usage(int promptTokens, int completionTokens, int totalTokens, PromptTokensDetails promptTokensDetails) {

    public static Usage of(int promptTokens, int completionTokens, int cachedTokens) {
        return new Usage(promptTokens, completionTokens, promptTokens + completionTokens,
                new PromptTokensDetails(cachedTokens));
    }

    /** @param cachedTokens prompt tokens whose KV was reused from the prefix cache */
    public record PromptTokensDetails(int cachedTokens) {
    }
}
