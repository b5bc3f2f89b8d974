package io.kvserve.common.tokenizer;

import java.util.OptionalInt;

/**
 * The special ids of a vocabulary and whether encoding with special tokens adds BOS/EOS.
 *
 * @param bosId     beginning-of-sequence id, if the model has one
 * @param eosId     end-of-sequence id (what stops generation by default)
 * @param unknownId id emitted for text the vocabulary cannot spell (SentencePiece without byte fallback)
 * @param paddingId padding id, if any
 * @param addBos    whether {@link Tokenizer.EncodeOptions#addSpecialTokens()} prepends BOS
 * @param addEos    whether {@link Tokenizer.EncodeOptions#addSpecialTokens()} appends EOS
 */
public record SpecialTokens(OptionalInt bosId, OptionalInt eosId, OptionalInt unknownId, OptionalInt paddingId,
                            boolean addBos, boolean addEos) {
    public SpecialTokens {
        if (addBos && bosId.isEmpty()) {
            throw new TokenizerException("add_bos_token is true but the vocabulary has no BOS id");
        }
        if (addEos && eosId.isEmpty()) {
            throw new TokenizerException("add_eos_token is true but the vocabulary has no EOS id");
        }
    }

    void checkRange(int vocabSize) {
        check("bos", bosId, vocabSize);
        check("eos", eosId, vocabSize);
        check("unknown", unknownId, vocabSize);
        check("padding", paddingId, vocabSize);
    }

    private static void check(String name, OptionalInt id, int vocabSize) {
        if (id.isPresent() && (id.getAsInt() < 0 || id.getAsInt() >= vocabSize)) {
            throw new TokenizerException(name + " token id " + id.getAsInt() + " is outside the vocabulary [0, "
                    + vocabSize + ")");
        }
    }
}
