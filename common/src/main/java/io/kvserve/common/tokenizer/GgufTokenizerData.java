package io.kvserve.common.tokenizer;

import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * The tokenizer part of a GGUF file's metadata, one field per key, as read by the GGUF reader.
 * Absent keys are {@code null} (or an empty {@link OptionalInt}).
 *
 * @param model          {@code tokenizer.ggml.model}: {@code "gpt2"} (byte-level BPE) or {@code "llama"} (SentencePiece)
 * @param pre            {@code tokenizer.ggml.pre}: pre-tokenizer name for gpt2 ({@code "llama-bpe"}, {@code "qwen2"}, {@code "smollm"}...), nullable
 * @param tokens         {@code tokenizer.ggml.tokens}
 * @param scores         {@code tokenizer.ggml.scores}, nullable (required for llama)
 * @param tokenTypes     {@code tokenizer.ggml.token_type} codes ({@link TokenType#ggufCode()}), nullable (all NORMAL)
 * @param merges         {@code tokenizer.ggml.merges} as {@code "left right"}, nullable (required for gpt2)
 * @param bosId          {@code tokenizer.ggml.bos_token_id}
 * @param eosId          {@code tokenizer.ggml.eos_token_id}
 * @param unknownId      {@code tokenizer.ggml.unknown_token_id}
 * @param paddingId      {@code tokenizer.ggml.padding_token_id}
 * @param addBos         {@code tokenizer.ggml.add_bos_token}, nullable (model default: llama yes, llama-bpe yes, other gpt2 no)
 * @param addEos         {@code tokenizer.ggml.add_eos_token}, nullable (default no)
 * @param addSpacePrefix {@code tokenizer.ggml.add_space_prefix}, nullable (default: llama yes, gpt2 no)
 * @param chatTemplate   {@code tokenizer.chat_template}, nullable
 */
public record GgufTokenizerData(String model, String pre, List<String> tokens, float[] scores, int[] tokenTypes,
                                List<String> merges, OptionalInt bosId, OptionalInt eosId, OptionalInt unknownId,
                                OptionalInt paddingId, Boolean addBos, Boolean addEos, Boolean addSpacePrefix,
                                String chatTemplate) {
    public GgufTokenizerData {
        Objects.requireNonNull(model, "tokenizer.ggml.model");
        Objects.requireNonNull(tokens, "tokenizer.ggml.tokens");
        Objects.requireNonNull(bosId);
        Objects.requireNonNull(eosId);
        Objects.requireNonNull(unknownId);
        Objects.requireNonNull(paddingId);
        if (scores != null && scores.length != tokens.size()) {
            throw new TokenizerException("tokenizer.ggml.scores has " + scores.length + " entries but tokenizer.ggml.tokens has "
                    + tokens.size());
        }
        if (tokenTypes != null && tokenTypes.length != tokens.size()) {
            throw new TokenizerException("tokenizer.ggml.token_type has " + tokenTypes.length
                    + " entries but tokenizer.ggml.tokens has " + tokens.size());
        }
    }
}
