package io.kvserve.common.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** Builds a tokenizer from GGUF metadata, with llama.cpp's defaults for absent keys. */
public final class GgufTokenizerLoader {
    private GgufTokenizerLoader() {
    }

    public static LoadedTokenizer load(GgufTokenizerData data) {
        TokenType[] types = new TokenType[data.tokens().size()];
        for (int i = 0; i < types.length; i++) {
            types[i] = data.tokenTypes() == null ? TokenType.NORMAL : TokenType.fromGgufCode(data.tokenTypes()[i]);
        }
        Tokenizer tokenizer = switch (data.model()) {
            case "gpt2" -> byteLevelBpe(data, types);
            case "llama" -> sentencePiece(data, types);
            default -> throw new TokenizerException("unsupported GGUF tokenizer.ggml.model '" + data.model()
                    + "' (supported: gpt2, llama)");
        };
        return new LoadedTokenizer(tokenizer, Optional.ofNullable(data.chatTemplate()));
    }

    private static Tokenizer byteLevelBpe(GgufTokenizerData data, TokenType[] types) {
        if (data.merges() == null) {
            throw new TokenizerException("GGUF tokenizer.ggml.model 'gpt2' needs tokenizer.ggml.merges, which is absent");
        }
        if (Boolean.TRUE.equals(data.addSpacePrefix())) {
            throw new TokenizerException("tokenizer.ggml.add_space_prefix = true is not supported for gpt2 models");
        }
        PreTokenizer preTokenizer = PreTokenizer.forGgufPre(data.pre());
        boolean isLlama3 = PreTokenizer.ggufPreIgnoresMerges(data.pre());
        List<String[]> merges = new ArrayList<>(data.merges().size());
        for (String merge : data.merges()) {
            merges.add(ByteLevelBpeTokenizer.parseMerge(merge));
        }
        SpecialTokens specials = new SpecialTokens(data.bosId(), data.eosId(), data.unknownId(), data.paddingId(),
                data.addBos() != null ? data.addBos() : isLlama3 && data.bosId().isPresent(),
                Boolean.TRUE.equals(data.addEos()));
        return new ByteLevelBpeTokenizer(data.tokens(), types, merges, preTokenizer, specials, isLlama3, false);
    }

    private static Tokenizer sentencePiece(GgufTokenizerData data, TokenType[] types) {
        if (data.scores() == null) {
            throw new TokenizerException("GGUF tokenizer.ggml.model 'llama' needs tokenizer.ggml.scores, which is absent");
        }
        OptionalInt bos = data.bosId().isPresent() ? data.bosId() : OptionalInt.of(1);
        OptionalInt eos = data.eosId().isPresent() ? data.eosId() : OptionalInt.of(2);
        OptionalInt unk = data.unknownId().isPresent() ? data.unknownId() : OptionalInt.of(0);
        SpecialTokens specials = new SpecialTokens(bos, eos, unk, data.paddingId(),
                data.addBos() == null || data.addBos(), Boolean.TRUE.equals(data.addEos()));
        return new SentencePieceBpeTokenizer(data.tokens(), data.scores(), types, specials,
                data.addSpacePrefix() == null || data.addSpacePrefix());
    }
}
