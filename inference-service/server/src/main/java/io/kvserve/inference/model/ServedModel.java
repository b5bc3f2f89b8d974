package io.kvserve.inference.model;

import io.kvserve.common.chat.ChatTemplate;
import io.kvserve.common.tokenizer.Tokenizer;
import io.kvserve.engine.LlmEngine;
import java.util.Optional;

/**
 * A loaded model ready to serve: the engine and what the API needs around it.
 *
 * @param info         what it is
 * @param engine       the running engine
 * @param tokenizer    the model's tokenizer
 * @param chatTemplate the model's chat template; empty when the file has none (chat completions get 400)
 */
public record ServedModel(ModelInfo info, LlmEngine engine, Tokenizer tokenizer, Optional<ChatTemplate> chatTemplate) {
}
