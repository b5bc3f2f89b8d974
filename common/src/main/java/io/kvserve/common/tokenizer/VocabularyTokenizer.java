package io.kvserve.common.tokenizer;

import java.util.OptionalInt;

/**
 * What every vocabulary-table tokenizer answers the same way: ids to texts, bytes and types, the
 * special tokens, the encode frame (BOS, added tokens, EOS) and byte-concatenating decode.
 * Subclasses add the encoding of raw text and whether decode strips a leading space.
 */
abstract sealed class VocabularyTokenizer implements Tokenizer permits ByteLevelBpeTokenizer, SentencePieceBpeTokenizer {

    final TokenTable table;
    final SpecialTokens specials;

    VocabularyTokenizer(TokenTable table, SpecialTokens specials) {
        specials.checkRange(table.texts.length);
        this.table = table;
        this.specials = specials;
    }

    /**
     * BOS, the text split at added tokens with each raw segment encoded by the sink from
     * {@link #segmentEncoder}, then EOS.
     */
    @Override
    public final int[] encode(String text, EncodeOptions options) {
        String clean = Utf8.replaceLoneSurrogates(text);
        IntList out = new IntList(clean.length() / 3 + 4);
        if (options.addSpecialTokens() && specials.addBos()) {
            out.add(specials.bosId().getAsInt());
        }
        table.segment(clean, options.parseSpecials(), segmentEncoder(out));
        if (options.addSpecialTokens() && specials.addEos()) {
            out.add(specials.eosId().getAsInt());
        }
        return out.toArray();
    }

    /** A sink, fresh for one {@link #encode} call, that appends each segment's ids to {@code out}. */
    abstract TokenTable.SegmentSink segmentEncoder(IntList out);

    @Override
    public final String decode(int[] ids, boolean skipSpecials) {
        return table.decode(ids, skipSpecials, stripsLeadingSpace());
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
