package io.kvserve.cli.benchserving;

import io.kvserve.common.chat.ChatMessage;
import io.kvserve.common.chat.ChatTemplate;
import io.kvserve.common.model.ModelFile;
import io.kvserve.common.tokenizer.LoadedTokenizer;
import io.kvserve.common.tokenizer.Tokenizer;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Publishes the shared-prefix workload's shared text through kvshare's operator API, so that every
 * tenant's requests hash its blocks in the public namespace (a hit for every tenant).
 *
 * <p>kvshare matches a published prefix against the token ids of the prompt as the scheduler and the
 * instances see it: the chat rendered with the model's template and tokenized as a rendered chat
 * ({@code PromptIds}). So the ids published here are computed the same way, from the model file:
 * every tenant's rendered prompt is tokenized, and the published ids are the longest run that all of
 * them share with the tokenized rendered text up to the end of the shared words (the template's
 * opening, then the shared words; a last token that merges with what follows is left out), cut to
 * whole KV blocks. They are therefore a prefix of every request's prompt ids by construction.
 */
final class PrefixPublisher {

    /** The ids to publish and how many whole blocks they make. */
    record Prefix(int[] tokenIds, int blockSize, int renderedHeadTokens) {
        int numBlocks() {
            return tokenIds.length / blockSize;
        }
    }

    private PrefixPublisher() {
    }

    /** The workload's shared prefix as token ids of {@code modelFile}'s tokenizer and chat template, whole blocks only. */
    static Prefix prefixIds(Path modelFile, SharedPrefixWorkload workload, int blockSize) throws IOException {
        try (ModelFile file = ModelFile.open(modelFile)) {
            LoadedTokenizer loaded = file.tokenizer();
            Optional<ChatTemplate> template = loaded.compiledChatTemplate();
            if (template.isEmpty()) {
                throw new IllegalArgumentException("--tokenizer-model " + modelFile + " has no chat template; the shared-prefix workload sends chats");
            }
            return prefixIds(loaded.tokenizer(), template.get(), workload, blockSize);
        }
    }

    static Prefix prefixIds(Tokenizer tokenizer, ChatTemplate template, SharedPrefixWorkload workload, int blockSize) {
        String shared = workload.publishedPrefix();
        if (shared.isEmpty()) {
            throw new IllegalArgumentException("--publish-prefix-url: the workload has no shared prefix (--shared-prefix-len 0)");
        }
        int[] common = null;
        int headTokens = 0;
        for (String tenant : workload.tenants()) {
            // the user turn does not matter: the prompts part at the tenant's own text, before it
            String rendered = template.render(List.of(ChatMessage.system(workload.systemMessage(tenant)), ChatMessage.user("?")), true);
            int[] ids = tokenizer.encode(rendered, Tokenizer.EncodeOptions.RENDERED_CHAT);
            if (common == null) {
                int at = rendered.indexOf(shared);
                if (at < 0) {
                    throw new IllegalStateException("the chat template does not keep the shared prefix verbatim");
                }
                common = tokenizer.encode(rendered.substring(0, at + shared.length()), Tokenizer.EncodeOptions.RENDERED_CHAT);
                headTokens = common.length;
            }
            common = Arrays.copyOf(common, commonLength(common, ids));
        }
        int whole = common.length / blockSize * blockSize;
        if (whole == 0) {
            throw new IllegalArgumentException("--publish-prefix-url: the shared prefix renders to " + common.length
                    + " common tokens, less than one KV block of " + blockSize + "; make --shared-prefix-len longer");
        }
        return new Prefix(Arrays.copyOf(common, whole), blockSize, headTokens);
    }

    private static int commonLength(int[] a, int[] b) {
        int n = Math.min(a.length, b.length);
        int i = 0;
        while (i < n && a[i] == b[i]) {
            i++;
        }
        return i;
    }

    /**
     * {@code PUT {kvshare}/v1/admin/published/{model}/{name}} with {@code {"token_ids": [...]}}.
     *
     * @throws IOException with kvshare's status and answer when it does not take it
     */
    static void publish(HttpClient http, URI kvshare, String operatorToken, String model, String name, int[] tokenIds)
            throws IOException, InterruptedException {
        ObjectNode body = StreamDecoder.mapper().createObjectNode();
        ArrayNode ids = body.putArray("token_ids");
        for (int id : tokenIds) {
            ids.add(id);
        }
        URI uri = kvshare.resolve("/v1/admin/published/" + segment(model) + "/" + segment(name));
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(StreamDecoder.mapper().writeValueAsString(body)));
        if (operatorToken != null) {
            request.header("Authorization", "Bearer " + operatorToken);
        }
        HttpResponse<String> response;
        try {
            response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IOException("publishing the shared prefix at " + uri + " failed: " + e.getMessage(), e);
        }
        if (response.statusCode() / 100 != 2) {
            throw new IOException("publishing the shared prefix at " + uri + " failed: HTTP " + response.statusCode() + " " + response.body()
                    + (response.statusCode() == 403 ? " (check --kvshare-operator-token / $KVSHARE_OPERATOR_TOKEN)" : ""));
        }
    }

    /**
     * Asks kvshare ({@code POST /v1/hits} with token ids, as a probe tenant) how many leading blocks of
     * {@code promptIds} it hashes in the published namespace: the check that the published ids match
     * the requests' prompts. -1 when kvshare does not say (no live instance, Redis away).
     */
    static int publishedBlocksOf(HttpClient http, URI kvshare, String model, String probeTenant, int[] promptIds)
            throws IOException, InterruptedException {
        ObjectNode body = StreamDecoder.mapper().createObjectNode();
        body.put("model", model);
        body.put("tenant", probeTenant);
        ArrayNode ids = body.putArray("queries").addObject().putArray("token_ids");
        for (int id : promptIds) {
            ids.add(id);
        }
        HttpRequest request = HttpRequest.newBuilder(kvshare.resolve("/v1/hits")).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(StreamDecoder.mapper().writeValueAsString(body))).build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            return -1;
        }
        JsonNode answer = StreamDecoder.mapper().readTree(response.body());
        JsonNode result = answer.path("results").path(0).path("num_published_blocks");
        return "ok".equals(answer.path("status").asString("")) && result.isNumber() ? result.asInt() : -1;
    }

    /** The token ids of {@code tenant}'s rendered prompt, as the scheduler computes them. */
    static int[] promptIds(Path modelFile, SharedPrefixWorkload workload, String tenant) throws IOException {
        try (ModelFile file = ModelFile.open(modelFile)) {
            LoadedTokenizer loaded = file.tokenizer();
            String rendered = loaded.compiledChatTemplate().orElseThrow().render(
                    List.of(ChatMessage.system(workload.systemMessage(tenant)), ChatMessage.user("?")), true);
            return loaded.tokenizer().encode(rendered, Tokenizer.EncodeOptions.RENDERED_CHAT);
        }
    }

    private static String segment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
