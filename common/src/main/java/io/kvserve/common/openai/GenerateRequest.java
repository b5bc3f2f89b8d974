package io.kvserve.common.openai;

import java.util.Objects;

/**
 * The internal generate call the gateway makes to an inference instance ({@code POST
 * /internal/v1/generate}) once the scheduler has placed, rendered and tokenized a request. The
 * instance streams the same chunks as the public endpoint named by {@code api}. The salt goes in,
 * never out: no response, log line or metric carries it.
 *
 * <pre>
 * {"api": "chat.completions" | "completions",
 *  "request": { the tenant's OpenAI request body, as the public endpoint takes it },
 *  "prompt_token_ids": [1, 2, ...],      the rendered, tokenized prompt (the scheduler's)
 *  "tenant_id": "acme",
 *  "cache_salt": "base64 of >= 16 bytes", the tenant's secret prefix-cache salt
 *  "num_published_blocks": 0,            leading full blocks under the operator-published namespace
 *  "request_id": "optional, echoed as the response id"}
 * </pre>
 *
 * @param api                which endpoint's chunks to stream
 * @param chat               the chat request when api is CHAT, else null
 * @param completion         the completion request when api is COMPLETIONS, else null
 * @param promptTokenIds     the prompt to run, already tokenized
 * @param tenantId           the tenant
 * @param cacheSalt          the tenant's salt
 * @param numPublishedBlocks leading full prompt blocks hashed under the published namespace
 * @param requestId          the caller's request id, null for one generated here
 */
public record GenerateRequest(Api api, ChatCompletionRequest chat, CompletionRequest completion, int[] promptTokenIds,
                              String tenantId, byte[] cacheSalt, int numPublishedBlocks, String requestId) {

    public enum Api { CHAT, COMPLETIONS }

    public GenerateRequest {
        Objects.requireNonNull(api, "api");
        Objects.requireNonNull(tenantId, "tenantId");
        Objects.requireNonNull(cacheSalt, "cacheSalt");
        if ((api == Api.CHAT) != (chat != null) || (api == Api.COMPLETIONS) != (completion != null)) {
            throw new IllegalArgumentException("exactly the request of " + api + " must be given");
        }
        promptTokenIds = promptTokenIds.clone();
        cacheSalt = cacheSalt.clone();
    }

    /** Streaming, usage, n and the sampling parameters of the wrapped request. */
    public GenerationParams params() {
        return api == Api.CHAT ? chat.params() : completion.params();
    }

    public boolean stream() {
        return api == Api.CHAT ? chat.stream() : completion.stream();
    }

    @Override
    public int[] promptTokenIds() {
        return promptTokenIds.clone();
    }

    @Override
    public byte[] cacheSalt() {
        return cacheSalt.clone();
    }

    @Override
    public String toString() {
        return "GenerateRequest[" + api + ", " + promptTokenIds.length + " prompt tokens, tenant " + tenantId
                + ", published blocks " + numPublishedBlocks + ", request id " + requestId + "]";
    }
}
