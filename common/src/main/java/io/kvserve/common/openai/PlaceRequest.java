package io.kvserve.common.openai;

import io.kvserve.common.openai.GenerateRequest.Api;
import java.util.Objects;

/**
 * The gateway's {@code POST /v1/place} to the scheduler ({@link OpenAiRequests#parsePlace}): the
 * tenant's request, not yet tokenized.
 *
 * <pre>
 * {"api": "chat.completions" | "completions", "tenant_id": "acme", "tenant_weight": 1,
 *  "request": { the tenant's OpenAI request }}
 * </pre>
 *
 * @param api        which endpoint the request is for
 * @param chat       the chat request when api is CHAT, else null
 * @param completion the completion request when api is COMPLETIONS, else null
 * @param tenantId   the tenant
 * @param tenantWeight the tenant's fair-share weight (>= 1) in the scheduler's admission queue; the
 *                   gateway sends the weight its operator set, default 1
 */
public record PlaceRequest(Api api, ChatCompletionRequest chat, CompletionRequest completion, String tenantId,
                           int tenantWeight) {

    public PlaceRequest {
        Objects.requireNonNull(api, "api");
        Objects.requireNonNull(tenantId, "tenantId");
        if (tenantWeight < 1) {
            throw new IllegalArgumentException("tenantWeight must be >= 1, was " + tenantWeight);
        }
        if ((api == Api.CHAT) != (chat != null) || (api == Api.COMPLETIONS) != (completion != null)) {
            throw new IllegalArgumentException("exactly the request of " + api + " must be given");
        }
    }

    public String model() {
        return api == Api.CHAT ? chat.model() : completion.model();
    }

    public GenerationParams params() {
        return api == Api.CHAT ? chat.params() : completion.params();
    }
}
