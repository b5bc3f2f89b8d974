package io.kvserve.common.tokenizer;

import io.kvserve.common.chat.ChatTemplate;
import java.util.Optional;

/**
 * A tokenizer with what a chat front end needs beside it.
 *
 * @param tokenizer    the tokenizer
 * @param chatTemplate the model's Jinja chat template, if the files carry one
 */
public record LoadedTokenizer(Tokenizer tokenizer, Optional<String> chatTemplate) {
    /** The BOS token's text for templates ({@code bos_token}), or "" when the model has none. */
    public String bosToken() {
        return tokenizer.bosId().isPresent() ? tokenizer.tokenText(tokenizer.bosId().getAsInt()) : "";
    }

    /** The chat template compiled with this model's BOS and EOS texts, if the files carry one. */
    public Optional<ChatTemplate> compiledChatTemplate() {
        return chatTemplate.map(source -> new ChatTemplate(source, bosToken(), eosToken()));
    }

    /** The EOS token's text for templates ({@code eos_token}), or "" when the model has none. */
    public String eosToken() {
        return tokenizer.eosId().isPresent() ? tokenizer.tokenText(tokenizer.eosId().getAsInt()) : "";
    }
}
