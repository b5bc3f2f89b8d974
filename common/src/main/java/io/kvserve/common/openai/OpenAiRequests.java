package io.kvserve.common.openai;

import io.kvserve.common.chat.ChatMessage;
import io.kvserve.common.openai.CompletionRequest.Prompt;
import io.kvserve.common.openai.GenerateRequest.Api;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * Parses and checks OpenAI request bodies, so that a bad request is refused at the edge with a 400
 * that names the parameter and says what is wrong, and never reaches an engine. Used by the
 * inference service and by the gateway (which validates before placing).
 *
 * <p>The body is read into a tree ({@link JsonBody}: strict UTF-8, no duplicate keys, nesting at most
 * {@value JsonBody#MAX_NESTING_DEPTH}) and walked by hand ({@link JsonFields}) rather than data-bound,
 * so that every refusal can name the parameter in the API's spelling ({@code messages[2].content},
 * {@code stream_options.include_usage}) and quote what was received. Unknown fields are refused with
 * OpenAI's wording; fields OpenAI defines but this server does not implement (tools, structured
 * output, audio, ...) are refused only when set to something other than their default, so that SDKs
 * that always send defaults keep working.
 *
 * <p>Bounds beyond those the OpenAI API documents, chosen so that a request that passes is cheap to
 * hand to an engine: at most {@value #MAX_LOGIT_BIAS_ENTRIES} {@code logit_bias} entries, at most
 * {@value #MAX_STOP_TOKEN_IDS} {@code stop_token_ids}, and the {@link Limits} of the server.
 */
public final class OpenAiRequests {

    /**
     * Server limits a request is checked against.
     *
     * @param maxN              most choices per request
     * @param maxStopStrings    most stop strings
     * @param maxStopLength     most characters per stop string
     * @param maxPromptTokenIds most token ids in a prompt given as ids
     */
    public record Limits(int maxN, int maxStopStrings, int maxStopLength, int maxPromptTokenIds) {
        public static final Limits DEFAULT = new Limits(16, 16, 1024, 1 << 20);
    }

    /** Most {@code logit_bias} entries: above any real use (vocabularies reach ~256k) yet bounds the map. */
    static final int MAX_LOGIT_BIAS_ENTRIES = 1 << 16;
    /** Most {@code stop_token_ids}; each is checked against every sampled token. */
    static final int MAX_STOP_TOKEN_IDS = 1024;
    /** Most chat {@code top_logprobs}, as OpenAI documents. */
    static final int MAX_TOP_LOGPROBS = 20;
    /** Most completions {@code logprobs}, as OpenAI documents. */
    static final int MAX_COMPLETION_LOGPROBS = 5;
    static final int MAX_TENANT_ID_CHARS = 128;
    static final int MAX_REQUEST_ID_CHARS = 256;
    static final int MIN_CACHE_SALT_BYTES = 16;

    private static final Set<String> SAMPLING_FIELDS = Set.of("model", "stream", "stream_options", "user",
            "max_tokens", "n", "temperature", "top_p", "top_k", "min_p", "seed", "stop", "stop_token_ids",
            "presence_penalty", "frequency_penalty", "repetition_penalty", "logit_bias", "logprobs", "min_tokens",
            "ignore_eos");
    private static final Set<String> CHAT_FIELDS = union(SAMPLING_FIELDS, Set.of("messages", "max_completion_tokens",
            "top_logprobs", "add_generation_prompt", "chat_template_kwargs", "tools", "functions", "tool_choice",
            "response_format", "audio", "modalities", "prediction", "store", "metadata", "service_tier",
            "parallel_tool_calls"));
    private static final Set<String> COMPLETION_FIELDS = union(SAMPLING_FIELDS, Set.of("prompt", "echo", "suffix",
            "best_of"));
    private static final Set<String> GENERATE_FIELDS = Set.of("api", "request", "prompt_token_ids", "tenant_id",
            "cache_salt", "num_published_blocks", "request_id");
    private static final Set<String> PLACE_FIELDS = Set.of("api", "request", "tenant_id", "tenant_weight");
    /** The largest tenant weight a placement takes (the gateway's admin API caps weights lower). */
    public static final int MAX_TENANT_WEIGHT = 1_000_000;
    private static final Set<String> MESSAGE_FIELDS = Set.of("role", "content", "name", "tool_call_id");
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");
    private static final Pattern TOKEN_ID_KEY = Pattern.compile("0|[1-9][0-9]{0,9}");
    private static final Pattern REQUEST_ID = Pattern.compile("[A-Za-z0-9._:-]+");

    private OpenAiRequests() {
    }

    /** {@code POST /v1/chat/completions}. @throws OpenAiException 400 naming the parameter at fault */
    public static ChatCompletionRequest parseChat(byte[] body, Limits limits) {
        return chat(new JsonFields(JsonBody.parseObject(body), ""), limits);
    }

    /** {@code POST /v1/completions}. @throws OpenAiException 400 naming the parameter at fault */
    public static CompletionRequest parseCompletion(byte[] body, Limits limits) {
        return completion(new JsonFields(JsonBody.parseObject(body), ""), limits);
    }

    /**
     * {@code POST /internal/v1/generate}: the envelope of {@link GenerateRequest}. The wrapped
     * {@code request} is checked by the same code as the public endpoint; a refusal inside it names
     * the parameter under {@code request.} ({@code request.temperature}, {@code request.messages[0].role})
     * so that it cannot be mistaken for an envelope field. A refusal of {@code cache_salt} never
     * quotes the value.
     *
     * @throws OpenAiException 400 naming the parameter at fault
     */
    public static GenerateRequest parseGenerate(byte[] body, Limits limits) {
        JsonFields envelope = new JsonFields(JsonBody.parseObject(body), "");
        envelope.rejectUnknown(GENERATE_FIELDS);
        Wrapped wrapped = wrapped(envelope, limits);
        if (envelope.get("prompt_token_ids") == null) {
            throw envelope.invalid("prompt_token_ids",
                    "'prompt_token_ids' is required: a non-empty array of token ids");
        }
        int[] promptTokenIds = tokenIds(envelope.optionalArray("prompt_token_ids"),
                envelope.param("prompt_token_ids"), limits.maxPromptTokenIds(), false);

        String tenantId = tenantId(envelope);
        byte[] cacheSalt = cacheSalt(envelope);
        Integer numPublishedBlocks = envelope.optionalInt("num_published_blocks", 0, Integer.MAX_VALUE);
        String requestId = envelope.optionalString("request_id");
        if (requestId != null
                && (requestId.length() > MAX_REQUEST_ID_CHARS || !REQUEST_ID.matcher(requestId).matches())) {
            throw envelope.mustBe("request_id", "1.." + MAX_REQUEST_ID_CHARS
                    + " characters of A-Z, a-z, 0-9, '.', '_', ':' and '-'", envelope.get("request_id"));
        }
        return new GenerateRequest(wrapped.api(), wrapped.chat(), wrapped.completion(), promptTokenIds, tenantId, cacheSalt,
                numPublishedBlocks == null ? 0 : numPublishedBlocks, requestId);
    }

    /**
     * The scheduler's {@code POST /v1/place}: {@code {"api", "tenant_id", "tenant_weight"?, "request"}}, the envelope
     * of {@link #parseGenerate} before the scheduler has tokenized the prompt and looked up the salt.
     * Refusals inside {@code request} name the parameter under {@code request.} as there.
     *
     * @throws OpenAiException 400 naming the parameter at fault
     */
    public static PlaceRequest parsePlace(byte[] body, Limits limits) {
        JsonFields envelope = new JsonFields(JsonBody.parseObject(body), "");
        envelope.rejectUnknown(PLACE_FIELDS);
        Wrapped wrapped = wrapped(envelope, limits);
        Integer weight = envelope.optionalInt("tenant_weight", 1, MAX_TENANT_WEIGHT);
        return new PlaceRequest(wrapped.api(), wrapped.chat(), wrapped.completion(), tenantId(envelope),
                weight == null ? 1 : weight);
    }

    /** The {@code api} and {@code request} of an envelope, the request checked as the public endpoint checks it. */
    private record Wrapped(Api api, ChatCompletionRequest chat, CompletionRequest completion) {
    }

    private static Wrapped wrapped(JsonFields envelope, Limits limits) {
        String apiName = envelope.requiredNonEmptyString("api");
        Api api = switch (apiName) {
            case "chat.completions" -> Api.CHAT;
            case "completions" -> Api.COMPLETIONS;
            default -> throw envelope.mustBe("api", "\"chat.completions\" or \"completions\"", envelope.get("api"));
        };
        if (envelope.get("request") == null) {
            throw envelope.invalid("request", "'request' is required: the tenant's " + apiName + " request body");
        }
        JsonFields request = new JsonFields(envelope.optionalObject("request"), envelope.param("request"));
        return new Wrapped(api, api == Api.CHAT ? chat(request, limits) : null,
                api == Api.COMPLETIONS ? completion(request, limits) : null);
    }

    private static String tenantId(JsonFields envelope) {
        String tenantId = envelope.requiredNonEmptyString("tenant_id");
        if (tenantId.length() > MAX_TENANT_ID_CHARS) {
            throw envelope.mustBe("tenant_id", "a string of at most " + MAX_TENANT_ID_CHARS + " characters",
                    envelope.get("tenant_id"));
        }
        return tenantId;
    }

    private static ChatCompletionRequest chat(JsonFields f, Limits limits) {
        f.rejectUnknown(CHAT_FIELDS);
        String model = f.requiredNonEmptyString("model");
        List<ChatMessage> messages = messages(f);
        rejectUnsupportedChatFeatures(f);
        f.optionalBoolean("store");
        f.optionalObject("metadata");
        f.optionalString("service_tier");
        f.optionalBoolean("parallel_tool_calls");
        boolean stream = f.booleanOr("stream", false);
        boolean includeUsage = includeUsage(f, stream);
        String user = f.optionalString("user");

        Integer maxTokens = f.optionalInt("max_tokens", 1, Integer.MAX_VALUE);
        Integer maxCompletionTokens = f.optionalInt("max_completion_tokens", 1, Integer.MAX_VALUE);
        if (maxTokens != null && maxCompletionTokens != null && !maxTokens.equals(maxCompletionTokens)) {
            throw f.invalid("max_completion_tokens", "'max_tokens' (" + maxTokens + ") and 'max_completion_tokens' ("
                    + maxCompletionTokens + ") disagree; give one of them");
        }
        boolean logprobs = f.booleanOr("logprobs", false);
        Integer topLogprobs = f.optionalInt("top_logprobs", 0, MAX_TOP_LOGPROBS);
        if (topLogprobs != null && !logprobs) {
            throw f.invalid("top_logprobs", "'top_logprobs' is only allowed when 'logprobs' is true");
        }
        GenerationParams params = params(f, limits, maxCompletionTokens != null ? maxCompletionTokens : maxTokens,
                logprobs ? (topLogprobs == null ? 0 : topLogprobs) : null);

        boolean addGenerationPrompt = f.booleanOr("add_generation_prompt", true);
        ObjectNode kwargs = f.optionalObject("chat_template_kwargs");
        return new ChatCompletionRequest(model, messages, params, stream, includeUsage, user, addGenerationPrompt,
                kwargs == null ? Map.of() : templateKwargs(kwargs));
    }

    private static CompletionRequest completion(JsonFields f, Limits limits) {
        f.rejectUnknown(COMPLETION_FIELDS);
        String model = f.requiredNonEmptyString("model");
        Prompt prompt = prompt(f, limits);
        String suffix = f.optionalString("suffix");
        if (suffix != null && !suffix.isEmpty()) {
            throw f.invalid("suffix", "'suffix' is not supported by this server (no insertion); got "
                    + JsonFields.describe(f.get("suffix")));
        }
        boolean echo = f.booleanOr("echo", false);
        boolean stream = f.booleanOr("stream", false);
        boolean includeUsage = includeUsage(f, stream);
        String user = f.optionalString("user");
        Integer maxTokens = f.optionalInt("max_tokens", 1, Integer.MAX_VALUE);
        Integer logprobs = f.optionalInt("logprobs", 0, MAX_COMPLETION_LOGPROBS);
        GenerationParams params = params(f, limits, maxTokens, logprobs);

        Integer bestOf = f.optionalInt("best_of", 1, Integer.MAX_VALUE);
        if (bestOf != null && bestOf < params.n()) {
            throw f.invalid("best_of", "'best_of' must be >= 'n' (" + params.n() + "), got " + bestOf);
        }
        if (bestOf != null && bestOf > params.n()) {
            throw f.invalid("best_of", "'best_of' greater than 'n' is not supported by this server: n is "
                    + params.n() + ", got best_of " + bestOf);
        }
        return new CompletionRequest(model, prompt, params, stream, includeUsage, user, echo);
    }

    /** The sampling and stopping fields both endpoints share. */
    private static GenerationParams params(JsonFields f, Limits limits, Integer maxTokens, Integer topLogprobs) {
        Integer n = f.optionalInt("n", 1, limits.maxN());
        Double temperature = f.optionalNumber("temperature", 0, false, 2);
        Double topP = f.optionalNumber("top_p", 0, true, 1);
        Integer topK = f.optionalInt("top_k", -1, Integer.MAX_VALUE);
        Double minP = f.optionalNumber("min_p", 0, false, 1);
        Long seed = f.optionalLong("seed");
        List<String> stop = stop(f, limits);
        ArrayNode stopTokenIdArray = f.optionalArray("stop_token_ids");
        List<Integer> stopTokenIds = new ArrayList<>();
        if (stopTokenIdArray != null) {
            for (int id : tokenIds(stopTokenIdArray, f.param("stop_token_ids"), MAX_STOP_TOKEN_IDS, true)) {
                stopTokenIds.add(id);
            }
        }
        Double presencePenalty = f.optionalNumber("presence_penalty", -2, false, 2);
        Double frequencyPenalty = f.optionalNumber("frequency_penalty", -2, false, 2);
        Double repetitionPenalty = f.optionalNumber("repetition_penalty", 0, true, 10);
        Map<Integer, Double> logitBias = logitBias(f);
        Integer minTokens = f.optionalInt("min_tokens", 0, Integer.MAX_VALUE);
        if (minTokens != null && maxTokens != null && minTokens > maxTokens) {
            throw f.invalid("min_tokens", "'min_tokens' must be <= 'max_tokens' (" + maxTokens + "), got "
                    + minTokens);
        }
        boolean ignoreEos = f.booleanOr("ignore_eos", false);
        return new GenerationParams(maxTokens, n == null ? 1 : n, temperature, topP, topK, minP, seed, stop,
                stopTokenIds, presencePenalty, frequencyPenalty, repetitionPenalty, logitBias, topLogprobs, minTokens,
                ignoreEos);
    }

    private static boolean includeUsage(JsonFields f, boolean stream) {
        ObjectNode options = f.optionalObject("stream_options");
        if (options == null) {
            return false;
        }
        if (!stream) {
            throw f.invalid("stream_options", "stream_options is only allowed when stream is true");
        }
        JsonFields optionFields = new JsonFields(options, f.param("stream_options"));
        optionFields.rejectUnknown(Set.of("include_usage"));
        return optionFields.booleanOr("include_usage", false);
    }

    /** Fields OpenAI defines that this server does not implement, refused unless at their default. */
    private static void rejectUnsupportedChatFeatures(JsonFields f) {
        for (String name : List.of("tools", "functions")) {
            ArrayNode array = f.optionalArray(name);
            if (array != null && !array.isEmpty()) {
                throw f.invalid(name, "'" + f.param(name) + "' is not supported by this server (no tool calling); got "
                        + JsonFields.describeType(array));
            }
        }
        JsonNode toolChoice = f.get("tool_choice");
        if (toolChoice != null && !(toolChoice.isString()
                && (toolChoice.stringValue().equals("none") || toolChoice.stringValue().equals("auto")))) {
            throw f.invalid("tool_choice", "'" + f.param("tool_choice")
                    + "' other than \"none\" or \"auto\" is not supported by this server (no tool calling); got "
                    + JsonFields.describe(toolChoice));
        }
        ObjectNode responseFormat = f.optionalObject("response_format");
        if (responseFormat != null) {
            JsonNode type = responseFormat.get("type");
            if (responseFormat.size() != 1 || type == null || !type.isString() || !type.stringValue().equals("text")) {
                throw f.invalid("response_format", "'" + f.param("response_format")
                        + "' other than {\"type\": \"text\"} is not supported by this server (no structured output);"
                        + " got type " + JsonFields.describe(type));
            }
        }
        for (String name : List.of("audio", "prediction")) {
            if (f.isGiven(name)) {
                throw f.invalid(name, "'" + f.param(name) + "' is not supported by this server; got "
                        + JsonFields.describeType(f.get(name)));
            }
        }
        ArrayNode modalities = f.optionalArray("modalities");
        if (modalities != null && !(modalities.size() == 1 && modalities.get(0).isString()
                && modalities.get(0).stringValue().equals("text"))) {
            throw f.invalid("modalities", "'" + f.param("modalities")
                    + "' other than [\"text\"] is not supported by this server; got " + modalities);
        }
    }

    private static List<ChatMessage> messages(JsonFields f) {
        if (f.get("messages") == null) {
            throw f.invalid("messages", "'" + f.param("messages") + "' is required: a non-empty array of messages");
        }
        ArrayNode array = f.optionalArray("messages");
        if (array.isEmpty()) {
            throw f.mustBe("messages", "a non-empty array of messages", array);
        }
        List<ChatMessage> messages = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            String path = f.param("messages") + "[" + i + "]";
            JsonNode message = array.get(i);
            if (!message.isObject()) {
                throw JsonFields.mustBeAt(path, "an object with 'role' and 'content'", message);
            }
            messages.add(message(new JsonFields((ObjectNode) message, path)));
        }
        return messages;
    }

    private static ChatMessage message(JsonFields m) {
        m.rejectUnknown(MESSAGE_FIELDS);
        String role = m.requiredNonEmptyString("role");
        if (!ROLES.contains(role)) {
            throw m.mustBe("role", "one of \"system\", \"developer\", \"user\", \"assistant\", \"tool\"",
                    m.get("role"));
        }
        String content = content(m, role);
        Map<String, Object> extra = new LinkedHashMap<>();
        String name = m.optionalString("name");
        if (name != null) {
            extra.put("name", name);
        }
        String toolCallId = m.optionalString("tool_call_id");
        if (role.equals("tool") && toolCallId == null) {
            throw m.invalid("tool_call_id", "'" + m.param("tool_call_id")
                    + "' is required on a message with role 'tool'");
        }
        if (!role.equals("tool") && toolCallId != null) {
            throw m.invalid("tool_call_id", "'" + m.param("tool_call_id")
                    + "' is only allowed on a message with role 'tool', got role '" + role + "'");
        }
        if (toolCallId != null) {
            extra.put("tool_call_id", toolCallId);
        }
        return new ChatMessage(role, content, extra);
    }

    /** A string, or text parts joined with no separator (as OpenAI concatenates them). */
    private static String content(JsonFields m, String role) {
        JsonNode value = m.get("content");
        if (value == null) {
            if (role.equals("assistant")) {
                return "";
            }
            throw m.invalid("content", "'" + m.param("content") + "' is required on a message with role '" + role
                    + "': a string or an array of text parts");
        }
        if (value.isString()) {
            return value.stringValue();
        }
        if (!value.isArray() || value.isEmpty()) {
            throw m.mustBe("content", "a string or a non-empty array of content parts", value);
        }
        StringBuilder text = new StringBuilder();
        for (int j = 0; j < value.size(); j++) {
            String path = m.param("content") + "[" + j + "]";
            JsonNode part = value.get(j);
            if (!part.isObject()) {
                throw JsonFields.mustBeAt(path, "an object {\"type\": \"text\", \"text\": ...}", part);
            }
            JsonFields partFields = new JsonFields((ObjectNode) part, path);
            String type = partFields.requiredNonEmptyString("type");
            if (!type.equals("text")) {
                throw partFields.invalid("type", "content part type '" + type
                        + "' is not supported by this model; only 'text' parts are");
            }
            partFields.rejectUnknown(Set.of("type", "text"));
            text.append(partFields.requiredString("text"));
        }
        return text.toString();
    }

    private static Prompt prompt(JsonFields f, Limits limits) {
        JsonNode value = f.get("prompt");
        String param = f.param("prompt");
        if (value == null) {
            throw f.invalid("prompt", "'" + param + "' is required: a string or an array of token ids");
        }
        if (value.isString()) {
            return textPrompt(value, param);
        }
        if (!value.isArray() || value.isEmpty()) {
            throw f.mustBe("prompt", "a non-empty string, an array of token ids, or an array of one of these", value);
        }
        JsonNode first = value.get(0);
        if (first.isNumber()) {
            return new Prompt.TokenIds(tokenIds((ArrayNode) value, param, limits.maxPromptTokenIds(), false));
        }
        if (!first.isString() && !first.isArray()) {
            throw JsonFields.mustBeAt(param + "[0]", "a string, a token id or an array of token ids", first);
        }
        if (value.size() > 1) {
            throw f.invalid("prompt", "this server takes one prompt per request; got " + value.size());
        }
        return first.isString()
                ? textPrompt(first, param + "[0]")
                : new Prompt.TokenIds(tokenIds((ArrayNode) first, param + "[0]", limits.maxPromptTokenIds(), false));
    }

    private static Prompt textPrompt(JsonNode value, String param) {
        if (value.stringValue().isEmpty()) {
            throw JsonFields.mustBeAt(param, "a non-empty string", value);
        }
        return new Prompt.Text(value.stringValue());
    }

    /** Token ids, each in 0..Integer.MAX_VALUE; the vocabulary bound is the engine's to check. */
    private static int[] tokenIds(ArrayNode array, String param, int maxCount, boolean mayBeEmpty) {
        if (array.isEmpty() && !mayBeEmpty) {
            throw JsonFields.mustBeAt(param, "a non-empty array of token ids", array);
        }
        if (array.size() > maxCount) {
            throw OpenAiException.invalidRequest(param, "'" + param + "' has " + array.size()
                    + " token ids; at most " + maxCount + " are allowed");
        }
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            String elementParam = param + "[" + i + "]";
            ids[i] = JsonFields.checkedInt(array.get(i), 0, Integer.MAX_VALUE,
                    (allowed, received) -> JsonFields.mustBeAt(elementParam, "a token id (" + allowed + ")", received));
        }
        return ids;
    }

    private static List<String> stop(JsonFields f, Limits limits) {
        JsonNode value = f.get("stop");
        if (value == null) {
            return List.of();
        }
        if (value.isString()) {
            return List.of(stopString(value, f.param("stop"), limits));
        }
        if (!value.isArray()) {
            throw f.mustBe("stop", "a string or an array of strings", value);
        }
        if (value.size() > limits.maxStopStrings()) {
            throw f.invalid("stop", "'" + f.param("stop") + "' has " + value.size() + " strings; at most "
                    + limits.maxStopStrings() + " are allowed");
        }
        List<String> stop = new ArrayList<>(value.size());
        for (int i = 0; i < value.size(); i++) {
            stop.add(stopString(value.get(i), f.param("stop") + "[" + i + "]", limits));
        }
        return stop;
    }

    private static String stopString(JsonNode value, String param, Limits limits) {
        if (!value.isString() || value.stringValue().isEmpty()
                || value.stringValue().codePointCount(0, value.stringValue().length()) > limits.maxStopLength()) {
            throw JsonFields.mustBeAt(param, "a non-empty string of at most " + limits.maxStopLength()
                    + " characters", value);
        }
        return value.stringValue();
    }

    private static Map<Integer, Double> logitBias(JsonFields f) {
        ObjectNode bias = f.optionalObject("logit_bias");
        if (bias == null) {
            return Map.of();
        }
        String param = f.param("logit_bias");
        if (bias.size() > MAX_LOGIT_BIAS_ENTRIES) {
            throw f.invalid("logit_bias", "'" + param + "' has " + bias.size() + " entries; at most "
                    + MAX_LOGIT_BIAS_ENTRIES + " are allowed");
        }
        Map<Integer, Double> biasByTokenId = new HashMap<>();
        for (Map.Entry<String, JsonNode> entry : bias.properties()) {
            String key = entry.getKey();
            long tokenId = TOKEN_ID_KEY.matcher(key).matches() ? Long.parseLong(key) : -1;
            if (tokenId < 0 || tokenId > Integer.MAX_VALUE) {
                throw f.invalid("logit_bias", "'" + param + "' keys must be token ids (integers in 0.."
                        + Integer.MAX_VALUE + " written as strings, e.g. \"50256\"), got key "
                        + JsonFields.describe(JsonNodeFactory.instance.stringNode(key)));
            }
            double value = JsonFields.checkedNumber(entry.getValue(), -100, false, 100,
                    (allowed, received) -> OpenAiException.invalidRequest(param, "'" + param + "' values must be "
                            + allowed + ", got " + JsonFields.describe(received) + " for token " + key));
            biasByTokenId.put((int) tokenId, value);
        }
        return biasByTokenId;
    }

    /** The salt, decoded; a refusal names only its type or decoded length, never its value. */
    private static byte[] cacheSalt(JsonFields envelope) {
        JsonNode value = envelope.get("cache_salt");
        if (value == null) {
            throw envelope.invalid("cache_salt", "'cache_salt' is required: base64 of at least "
                    + MIN_CACHE_SALT_BYTES + " bytes");
        }
        if (!value.isString()) {
            throw envelope.invalid("cache_salt", "'cache_salt' must be a base64 string, got "
                    + JsonFields.describeType(value));
        }
        byte[] salt;
        try {
            salt = Base64.getDecoder().decode(value.stringValue());
        } catch (IllegalArgumentException e) {
            throw envelope.invalid("cache_salt", "'cache_salt' must be standard base64 (A-Z, a-z, 0-9, '+', '/',"
                    + " '=' padding); the value given is not (" + value.stringValue().length() + " characters)");
        }
        if (salt.length < MIN_CACHE_SALT_BYTES) {
            throw envelope.invalid("cache_salt", "'cache_salt' must decode to at least " + MIN_CACHE_SALT_BYTES
                    + " bytes, got " + salt.length + " bytes");
        }
        return salt;
    }

    /**
     * {@code chat_template_kwargs} as plain Java values for the template engine. A top-level null is
     * dropped: to a template, a variable set to none and one not given read the same.
     */
    private static Map<String, Object> templateKwargs(ObjectNode kwargs) {
        Map<String, Object> plain = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : kwargs.properties()) {
            if (!entry.getValue().isNull()) {
                plain.put(entry.getKey(), plain(entry.getValue()));
            }
        }
        return plain;
    }

    private static Object plain(JsonNode value) {
        if (value.isObject()) {
            Map<String, Object> map = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> entry : value.properties()) {
                map.put(entry.getKey(), plain(entry.getValue()));
            }
            return Collections.unmodifiableMap(map);
        }
        if (value.isArray()) {
            List<Object> list = new ArrayList<>(value.size());
            for (JsonNode element : value) {
                list.add(plain(element));
            }
            return Collections.unmodifiableList(list);
        }
        if (value.isString()) {
            return value.stringValue();
        }
        if (value.isBoolean()) {
            return value.booleanValue();
        }
        if (value.isIntegralNumber()) {
            return value.canConvertToInt() ? (Object) value.intValue()
                    : value.canConvertToLong() ? (Object) value.longValue() : value.bigIntegerValue();
        }
        if (value.isNumber()) {
            return value.doubleValue();
        }
        return null;
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        return Set.copyOf(all);
    }
}
