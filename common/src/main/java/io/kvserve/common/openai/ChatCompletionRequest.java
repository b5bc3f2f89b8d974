package io.kvserve.common.openai;

import io.kvserve.common.chat.ChatMessage;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@code POST /v1/chat/completions}, parsed and checked ({@link OpenAiRequests#parseChat}).
 *
 * @param model            the model id
 * @param messages         the conversation, at least one message; content parts joined to text
 * @param params           sampling and stopping
 * @param stream           answer as server-sent events
 * @param includeUsage     {@code stream_options.include_usage}: a last chunk with usage (streaming only)
 * @param user             the end user's id, for abuse tracking; never affects output
 * @param addGenerationPrompt vLLM extension {@code add_generation_prompt}, default true
 * @param chatTemplateKwargs  vLLM extension {@code chat_template_kwargs}: extra template variables
 */
public record ChatCompletionRequest(String model, List<ChatMessage> messages, GenerationParams params, boolean stream,
                                    boolean includeUsage, String user, boolean addGenerationPrompt,
                                    Map<String, Object> chatTemplateKwargs) {

    public ChatCompletionRequest {
        Objects.requireNonNull(model, "model");
        messages = List.copyOf(messages);
        Objects.requireNonNull(params, "params");
        chatTemplateKwargs = chatTemplateKwargs == null ? Map.of() : Map.copyOf(chatTemplateKwargs);
    }
}
