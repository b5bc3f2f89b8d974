package io.kvserve.common.tokenizer;

import java.util.OptionalInt;

/**
 * What every vocabulary-table tokenizer answers the same way: ids to texts, bytes and types, and
 * the special tokens. Subclasses add the encoding algorithm and its decode rules.
 */
abstract sealed class VocabularyTokenizer implements Tokenizer permits ByteLevelBpeTokenizer, SentencePieceBpeTokenizer {

    final TokenTable table;
    final SpecialTokens specials;

    VocabularyTokenizer(TokenTable table, SpecialTokens specials) {
        specials.checkRange(table.texts.length);
        this.table = table;
        this.specials = specials;
    }

    @Override
    public int vocabSize() {
        return table.texts.length;
    }

    @Override
    public OptionalInt bosId() {
        return specials.bosId();
    }

    @Override
    public OptionalInt eosId() {
        return specials.eosId();
    }

    @Override
    public boolean addBos() {
        return specials.addBos();
    }

    @Override
    public boolean addEos() {
        return specials.addEos();
    }

    @Override
    public String tokenText(int id) {
        table.checkId(id);
        return table.texts[id];
    }

    @Override
    public byte[] tokenBytes(int id) {
        table.checkId(id);
        return table.bytes[id].clone();
    }

    /** {@link #tokenBytes} without the defensive copy, for the detokenizer's per-token path; never modify it. */
    byte[] tokenBytesShared(int id) {
        table.checkId(id);
        return table.bytes[id];
    }

    @Override
    public TokenType tokenType(int id) {
        table.checkId(id);
        return table.types[id];
    }
}
