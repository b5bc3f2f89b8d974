package io.kvserve.common.openai;

import io.kvserve.common.chat.ChatTemplate;
import io.kvserve.common.chat.ChatTemplateException;
import io.kvserve.common.tokenizer.Tokenizer;
import java.util.Optional;

/**
 * A request's prompt as token ids: one pipeline for the inference instance and the scheduler, so the
 * ids the scheduler predicts hits for (and the block hashes kvshare computes from them) are exactly
 * the ids the engine runs.
 */
public final class PromptIds {

    private PromptIds() {
    }

    /**
     * The chat rendered with the model's template and tokenized as a rendered chat (control tokens
     * parsed, no BOS added: the template writes it).
     *
     * @throws OpenAiException 400 when the model has no template or the template rejects the messages
     */
    public static int[] of(ChatCompletionRequest chat, Optional<ChatTemplate> template, Tokenizer tokenizer) {
        if (template.isEmpty()) {
            throw OpenAiException.invalidRequest("messages", "the model " + chat.model()
                    + " has no chat template; use /v1/completions with a prompt");
        }
        String rendered;
        try {
            rendered = template.get().render(chat.messages(), chat.addGenerationPrompt(), chat.chatTemplateKwargs());
        } catch (ChatTemplateException e) {
            throw OpenAiException.invalidRequest("messages", "the chat template rejected the messages: " + e.getMessage());
        }
        return tokenizer.encode(rendered, Tokenizer.EncodeOptions.RENDERED_CHAT);
    }

    /** A completion's prompt: text tokenized as a prompt (BOS added if the model asks), or the ids as given. */
    public static int[] of(CompletionRequest completion, Tokenizer tokenizer) {
        return switch (completion.prompt()) {
            case CompletionRequest.Prompt.Text text -> tokenizer.encode(text.text(), Tokenizer.EncodeOptions.PROMPT);
            case CompletionRequest.Prompt.TokenIds ids -> ids.ids();
        };
    }
}
