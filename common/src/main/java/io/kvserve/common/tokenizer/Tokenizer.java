package io.kvserve.common.tokenizer;

import java.util.OptionalInt;

/**
 * Turns text into token ids and back, the way the model was trained to see it.
 *
 * <p>Implementations are immutable and thread-safe: the scheduler and every engine share one
 * instance per model. Ids are {@code 0 <= id < vocabSize()}; an id outside that range is a bug and
 * throws {@link IndexOutOfBoundsException}.
 *
 * <p>Two kinds of extra tokens exist beside the learned vocabulary (see {@link TokenType}):
 * {@link TokenType#CONTROL} tokens ({@code <|eot_id|>}, {@code <s>}) are recognized in text only
 * when {@link EncodeOptions#parseSpecials()} is set, so user text can never forge them;
 * {@link TokenType#USER_DEFINED} tokens are always matched in text (llama.cpp and HF both do this).
 */
public interface Tokenizer {

    /** Encodes raw text: control tokens are not parsed and no BOS/EOS is added. */
    default int[] encode(String text) {
        return encode(text, EncodeOptions.RAW);
    }

    /** Encodes a rendered prompt: control tokens in the text are recognized and BOS/EOS added as the model asks. */
    default int[] encodeWithSpecials(String text) {
        return encode(text, EncodeOptions.PROMPT);
    }

    int[] encode(String text, EncodeOptions options);

    /** Decodes ids to text, control tokens included; invalid UTF-8 becomes U+FFFD. */
    default String decode(int[] ids) {
        return decode(ids, false);
    }

    String decode(int[] ids, boolean skipSpecials);

    int vocabSize();

    OptionalInt bosId();

    OptionalInt eosId();

    /** Whether {@link EncodeOptions#addSpecialTokens()} puts {@link #bosId()} first. */
    boolean addBos();

    /** Whether {@link EncodeOptions#addSpecialTokens()} puts {@link #eosId()} last. */
    boolean addEos();

    /** The token's text as the vocabulary spells it ({@code "Ġhello"}, {@code "▁hello"}, {@code "<0x0A>"}). */
    String tokenText(int id);

    /**
     * The raw bytes the token stands for in decoded output: UTF-8, possibly a fragment of one
     * character. Control and unused tokens give their text's bytes (callers skip them when they skip
     * specials). SentencePiece tokens keep their leading space here; the "strip the first space" rule
     * of {@link #decode} lives in {@link #stripsLeadingSpace()}.
     */
    byte[] tokenBytes(int id);

    TokenType tokenType(int id);

    /** Whether {@code decode(..., skipSpecials=true)} drops this token. */
    default boolean isSpecial(int id) {
        TokenType type = tokenType(id);
        return type == TokenType.CONTROL || type == TokenType.UNUSED;
    }

    /** Whether decoding drops one leading space of the output (SentencePiece with a space prefix). */
    default boolean stripsLeadingSpace() {
        return false;
    }

    /** Options of one encode call. */
    record EncodeOptions(boolean parseSpecials, boolean addSpecialTokens) {
        /** User text: no control-token parsing, nothing added. */
        public static final EncodeOptions RAW = new EncodeOptions(false, false);
        /** A prompt: control tokens parsed, BOS/EOS added as the model says. */
        public static final EncodeOptions PROMPT = new EncodeOptions(true, true);
        /**
         * A rendered chat template: control tokens parsed, nothing added, because templates write
         * {@code bos_token} themselves (adding it again gives llama.cpp's "2 BOS tokens" warning).
         */
        public static final EncodeOptions RENDERED_CHAT = new EncodeOptions(true, false);
    }
}
