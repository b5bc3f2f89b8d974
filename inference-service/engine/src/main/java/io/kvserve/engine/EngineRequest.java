package io.kvserve.engine;

import io.kvserve.common.tokenizer.Tokenizer;
import io.kvserve.engine.sample.SamplingParams;
import java.util.Objects;

/**
 * One generation request as the engine takes it.
 *
 * @param requestId          unique among the engine's live requests
 * @param promptIds          the prompt's token ids (copied; checked at submission)
 * @param params             how to sample and when to stop
 * @param tenantId           the tenant, for accounting; null for none
 * @param cacheSalt          the tenant's secret prefix-cache salt, at least 16 bytes (32 random bytes
 *                           recommended); null takes the engine-wide default salt. Never printed.
 * @param numPublishedBlocks leading full prompt blocks that are an operator-published prefix, hashed
 *                           under {@code BlockHasher.publishedSalt()} so that they hit across tenants
 * @param arrivalNanos       {@link System#nanoTime()} when the request arrived (for aging and timings)
 */
public record EngineRequest(String requestId, int[] promptIds, SamplingParams params, String tenantId, byte[] cacheSalt,
                            int numPublishedBlocks, long arrivalNanos) {

    public EngineRequest {
        Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(params, "params");
        promptIds = Objects.requireNonNull(promptIds, "promptIds").clone();
        cacheSalt = cacheSalt == null ? null : cacheSalt.clone();
        if (numPublishedBlocks < 0) {
            throw new InvalidRequestException(null, "numPublishedBlocks must be >= 0, got " + numPublishedBlocks);
        }
    }

    /** A request of no tenant, under the default salt, arriving now. */
    public static EngineRequest of(String requestId, int[] promptIds, SamplingParams params) {
        return new EngineRequest(requestId, promptIds, params, null, null, 0, System.nanoTime());
    }

    /**
     * A request for a text prompt, tokenized with the model's tokenizer as a prompt (control tokens
     * parsed, BOS added if the model asks for it), arriving now.
     */
    public static EngineRequest ofText(String requestId, String prompt, SamplingParams params, Tokenizer tokenizer) {
        return of(requestId, tokenizer.encode(prompt, Tokenizer.EncodeOptions.PROMPT), params);
    }

    /** This request for {@code tenantId} under its {@code cacheSalt}, with a published prefix of {@code numPublishedBlocks}. */
    public EngineRequest withTenant(String tenantId, byte[] cacheSalt, int numPublishedBlocks) {
        return new EngineRequest(requestId, promptIds, params, tenantId, cacheSalt, numPublishedBlocks, arrivalNanos);
    }

    @Override
    public int[] promptIds() {
        return promptIds.clone();
    }

    int[] promptIdsShared() {
        return promptIds;
    }

    byte[] cacheSaltShared() {
        return cacheSalt;
    }

    @Override
    public byte[] cacheSalt() {
        return cacheSalt == null ? null : cacheSalt.clone();
    }

    @Override
    public String toString() {
        return "EngineRequest[" + requestId + ", " + promptIds.length + " prompt tokens, tenant " + tenantId
                + (cacheSalt == null ? ", default salt" : ", own salt") + ", published blocks " + numPublishedBlocks
                + ", " + params + "]";
    }
}
