package io.kvserve.common.tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Builds a byte-level BPE tokenizer from a Hugging Face {@code tokenizer.json} (and optionally its
 * {@code tokenizer_config.json}). Supported: {@code model.type = BPE} without byte fallback, an NFC
 * or absent normalizer, pre-tokenizers ByteLevel / Split(Isolated) / Digits in a Sequence, ByteLevel
 * decoder, TemplateProcessing/ByteLevel post-processors. Anything else is refused with the field and
 * value named, rather than tokenized subtly wrong.
 */
public final class HfTokenizerLoader {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private HfTokenizerLoader() {
    }

    /**
     * @param tokenizerJson   path of {@code tokenizer.json}
     * @param tokenizerConfig path of {@code tokenizer_config.json}, or null
     */
    public static LoadedTokenizer load(Path tokenizerJson, Path tokenizerConfig) {
        JsonNode root = read(tokenizerJson);
        JsonNode config = tokenizerConfig != null && Files.exists(tokenizerConfig) ? read(tokenizerConfig) : null;

        JsonNode model = root.path("model");
        String modelType = model.path("type").asString("BPE");
        if (!modelType.equals("BPE")) {
            throw unsupported("model.type", modelType);
        }
        if (model.path("byte_fallback").asBoolean(false)) {
            throw unsupported("model.byte_fallback", "true");
        }
        if (!model.path("dropout").isMissingNode() && !model.path("dropout").isNull()) {
            throw unsupported("model.dropout", model.path("dropout").toString());
        }
        for (String field : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
            JsonNode value = model.path(field);
            if (!value.isMissingNode() && !value.isNull() && !value.asString().isEmpty()) {
                throw unsupported("model." + field, value.asString());
            }
        }

        // ids: model vocab plus added tokens; gaps become UNUSED "[PAD{id}]" tokens. An added token may
        // reuse the id of the vocab entry with its own text (GPT-2's <|endoftext|>); no other sharing.
        JsonNode vocab = model.path("vocab");
        JsonNode addedTokens = root.path("added_tokens");
        if (!vocab.isObject()) {
            throw new TokenizerException(tokenizerJson + ": model.vocab is " + (vocab.isMissingNode() ? "missing" : vocab.getNodeType())
                    + ", expected an object of token -> id");
        }
        long idLimit = (long) vocab.size() + addedTokens.size();
        int size = 0;
        for (Map.Entry<String, JsonNode> e : vocab.properties()) {
            int id = checkId(tokenizerJson, "model.vocab[\"" + e.getKey() + "\"]", e.getValue(), idLimit);
            size = Math.max(size, id + 1);
        }
        for (int i = 0; i < addedTokens.size(); i++) {
            JsonNode added = addedTokens.get(i);
            int id = checkId(tokenizerJson, "added_tokens[" + i + "] (\"" + added.path("content").asString("") + "\")",
                    added.path("id"), idLimit);
            size = Math.max(size, id + 1);
        }
        String[] texts = new String[size];
        TokenType[] types = new TokenType[size];
        for (Map.Entry<String, JsonNode> e : vocab.properties()) {
            int id = e.getValue().asInt();
            if (texts[id] != null) {
                throw new TokenizerException(tokenizerJson + ": model.vocab[\"" + e.getKey() + "\"] has id " + id
                        + ", already the id of \"" + texts[id] + "\"");
            }
            texts[id] = e.getKey();
            types[id] = TokenType.NORMAL;
        }
        boolean[] addedIds = new boolean[size];
        for (int i = 0; i < addedTokens.size(); i++) {
            JsonNode added = addedTokens.get(i);
            for (String flag : List.of("single_word", "lstrip", "rstrip")) {
                if (added.path(flag).asBoolean(false)) {
                    throw unsupported("added_tokens[" + added.path("content").asString() + "]." + flag, "true");
                }
            }
            int id = added.path("id").asInt();
            String content = added.path("content").asString();
            if (addedIds[id] || (texts[id] != null && !texts[id].equals(content))) {
                throw new TokenizerException(tokenizerJson + ": added_tokens[" + i + "] (\"" + content + "\") has id "
                        + id + ", already the id of \"" + texts[id] + "\"");
            }
            addedIds[id] = true;
            texts[id] = content;
            types[id] = added.path("special").asBoolean(false) ? TokenType.CONTROL : TokenType.USER_DEFINED;
        }
        for (int id = 0; id < size; id++) {
            if (texts[id] == null) {
                texts[id] = "[PAD" + id + "]";
                types[id] = TokenType.UNUSED;
            }
        }
        List<String> tokens = List.of(texts);

        List<String[]> merges = new ArrayList<>();
        for (JsonNode merge : model.path("merges").values()) {
            if (merge.isArray()) {
                if (merge.size() != 2) {
                    throw new TokenizerException("model.merges entry " + merge + " is not a pair");
                }
                merges.add(new String[] {merge.get(0).asString(), merge.get(1).asString()});
            } else {
                merges.add(ByteLevelBpeTokenizer.parseMerge(merge.asString()));
            }
        }

        boolean nfc = normalizer(root.path("normalizer"));
        List<String> regexes = new ArrayList<>();
        boolean[] sawByteLevel = {false};
        preTokenizer(root.path("pre_tokenizer"), regexes, sawByteLevel);
        if (!sawByteLevel[0]) {
            throw unsupported("pre_tokenizer", "without ByteLevel (only byte-level BPE is supported)");
        }
        JsonNode decoder = root.path("decoder");
        if (!decoder.isMissingNode() && !decoder.isNull() && !decoder.path("type").asString().equals("ByteLevel")) {
            throw unsupported("decoder.type", decoder.path("type").asString());
        }

        int[] bosEos = {-1, -1};
        postProcessor(root.path("post_processor"), tokens, bosEos);
        OptionalInt bosId = bosEos[0] >= 0 ? OptionalInt.of(bosEos[0]) : OptionalInt.empty();
        OptionalInt eosId = OptionalInt.empty();
        boolean addBos = bosEos[0] >= 0;
        boolean addEos = bosEos[1] >= 0;
        if (addEos) {
            eosId = OptionalInt.of(bosEos[1]);
        }
        Optional<String> chatTemplate = Optional.empty();
        if (config != null) {
            OptionalInt configBos = tokenId(config.path("bos_token"), tokens);
            OptionalInt configEos = tokenId(config.path("eos_token"), tokens);
            if (configBos.isPresent()) {
                bosId = configBos;
            }
            if (configEos.isPresent()) {
                eosId = configEos;
            }
            if (config.has("add_bos_token") && !config.get("add_bos_token").isNull()) {
                addBos = config.get("add_bos_token").asBoolean();
            }
            if (config.has("add_eos_token") && !config.get("add_eos_token").isNull()) {
                addEos = config.get("add_eos_token").asBoolean();
            }
            chatTemplate = chatTemplate(config.path("chat_template"));
        }
        SpecialTokens specials = new SpecialTokens(bosId, eosId, OptionalInt.empty(), OptionalInt.empty(),
                addBos && bosId.isPresent(), addEos && eosId.isPresent());
        Tokenizer tokenizer = new ByteLevelBpeTokenizer(tokens, types, merges, new PreTokenizer(regexes), specials,
                model.path("ignore_merges").asBoolean(false), nfc);
        return new LoadedTokenizer(tokenizer, chatTemplate);
    }

    /** Largest tokenizer.json / tokenizer_config.json read; a 256k-token vocabulary is under 20 MiB. */
    static final long MAX_JSON_BYTES = 256L << 20;

    private static JsonNode read(Path path) {
        try {
            long size = Files.size(path);
            if (size > MAX_JSON_BYTES) {
                throw new TokenizerException(path + ": " + size + " bytes is over the limit of " + MAX_JSON_BYTES
                        + " bytes for a tokenizer JSON file");
            }
            return JSON.readTree(Files.readAllBytes(path));
        } catch (TokenizerException e) {
            throw e;
        } catch (java.io.IOException | RuntimeException e) {
            throw new TokenizerException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /** A token id: a JSON integer in {@code [0, idLimit)}, where idLimit = vocab size + added tokens. */
    private static int checkId(Path file, String entry, JsonNode id, long idLimit) {
        if (!id.isIntegralNumber() || !id.canConvertToInt()) {
            throw new TokenizerException(file + ": " + entry + " has id " + (id.isMissingNode() ? "missing" : id.toString())
                    + ", expected an integer");
        }
        int value = id.asInt();
        if (value < 0 || value >= idLimit) {
            throw new TokenizerException(file + ": " + entry + " has id " + value + ", outside [0, " + idLimit
                    + ") (vocab entries + added tokens)");
        }
        return value;
    }

    private static TokenizerException unsupported(String field, String value) {
        return new TokenizerException("unsupported tokenizer.json " + field + " = " + value);
    }

    private static boolean normalizer(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return false;
        }
        String type = node.path("type").asString();
        if (type.equals("NFC")) {
            return true;
        }
        if (type.equals("Sequence") && node.path("normalizers").isEmpty()) {
            return false;
        }
        throw unsupported("normalizer.type", type);
    }

    private static void preTokenizer(JsonNode node, List<String> regexes, boolean[] sawByteLevel) {
        if (node.isMissingNode() || node.isNull()) {
            return;
        }
        String type = node.path("type").asString();
        switch (type) {
            case "Sequence" -> {
                for (JsonNode child : node.path("pretokenizers").values()) {
                    preTokenizer(child, regexes, sawByteLevel);
                }
            }
            case "ByteLevel" -> {
                if (node.path("add_prefix_space").asBoolean(false)) {
                    throw unsupported("pre_tokenizer.ByteLevel.add_prefix_space", "true");
                }
                if (node.path("use_regex").asBoolean(true)) {
                    regexes.add(PreTokenizer.GPT2_REGEX);
                }
                sawByteLevel[0] = true;
            }
            case "Split" -> {
                String behavior = node.path("behavior").asString();
                if (!behavior.equals("Isolated")) {
                    throw unsupported("pre_tokenizer.Split.behavior", behavior);
                }
                if (node.path("invert").asBoolean(false)) {
                    throw unsupported("pre_tokenizer.Split.invert", "true");
                }
                JsonNode pattern = node.path("pattern");
                if (pattern.has("Regex")) {
                    regexes.add(pattern.get("Regex").asString());
                } else if (pattern.has("String")) {
                    regexes.add(java.util.regex.Pattern.quote(pattern.get("String").asString()));
                } else {
                    throw unsupported("pre_tokenizer.Split.pattern", pattern.toString());
                }
            }
            case "Digits" -> regexes.add(node.path("individual_digits").asBoolean(false)
                    ? PreTokenizer.SINGLE_DIGIT_REGEX : PreTokenizer.DIGIT_RUN_REGEX);
            default -> throw unsupported("pre_tokenizer.type", type);
        }
    }

    /** Reads BOS/EOS from TemplateProcessing's single template ({@code [SpecialToken, Sequence, SpecialToken]}). */
    private static void postProcessor(JsonNode node, List<String> tokens, int[] bosEos) {
        if (node.isMissingNode() || node.isNull()) {
            return;
        }
        String type = node.path("type").asString();
        switch (type) {
            case "Sequence" -> {
                for (JsonNode child : node.path("processors").values()) {
                    postProcessor(child, tokens, bosEos);
                }
            }
            case "ByteLevel" -> {
                // offsets only
            }
            case "TemplateProcessing" -> {
                boolean beforeSequence = true;
                for (JsonNode piece : node.path("single").values()) {
                    if (piece.has("Sequence")) {
                        beforeSequence = false;
                    } else if (piece.has("SpecialToken")) {
                        String name = piece.get("SpecialToken").path("id").asString();
                        JsonNode ids = node.path("special_tokens").path(name).path("ids");
                        int id = ids.size() == 1 ? ids.get(0).asInt() : tokens.indexOf(name);
                        if (id < 0) {
                            throw unsupported("post_processor.TemplateProcessing.single", piece.toString());
                        }
                        bosEos[beforeSequence ? 0 : 1] = id;
                    }
                }
            }
            default -> throw unsupported("post_processor.type", type);
        }
    }

    private static OptionalInt tokenId(JsonNode node, List<String> tokens) {
        String text = node.isString() ? node.asString() : node.path("content").asString(null);
        if (text == null) {
            return OptionalInt.empty();
        }
        int id = tokens.indexOf(text);
        return id >= 0 ? OptionalInt.of(id) : OptionalInt.empty();
    }

    private static Optional<String> chatTemplate(JsonNode node) {
        if (node.isString()) {
            return Optional.of(node.asString());
        }
        if (node.isArray()) {
            for (JsonNode named : node.values()) {
                if (named.path("name").asString("").equals("default")) {
                    return Optional.of(named.path("template").asString());
                }
            }
        }
        return Optional.empty();
    }
}
