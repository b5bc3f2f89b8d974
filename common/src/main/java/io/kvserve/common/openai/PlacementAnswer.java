package io.kvserve.common.openai;

import java.util.List;

/**
 * The scheduler's answer to the gateway's {@code POST /v1/place} (internal: it carries the tenant's
 * salt, which the gateway passes to the instance's internal generate endpoint and never to a client).
 *
 * @param requestId          the placement's id (report the delivered hit under it)
 * @param model              the model
 * @param instance           where to run the request
 * @param fallbacks          where to retry, in order, if the instance fails before the first token
 * @param promptTokenIds     the rendered, tokenized prompt
 * @param numPublishedBlocks leading blocks under the operator-published namespace
 * @param cacheSalt          base64 of the tenant's prefix-cache salt
 * @param cacheSaltSource    {@code tenant}, or {@code ephemeral} when Redis could not give the tenant's
 *                           salt (a one-off salt: no reuse, no leak)
 * @param predictedHitTokens prompt tokens expected from the instance's prefix cache
 * @param policy             the policy that chose
 * @param reason             why the instance was chosen
 * @param kvshare            {@code ok}, or {@code unknown} when hits were not available (placed by load)
 */
public record PlacementAnswer(String requestId, String model, Target instance, List<Target> fallbacks,
                              int[] promptTokenIds, int numPublishedBlocks, String cacheSalt, String cacheSaltSource,
                              int predictedHitTokens, String policy, String reason, String kvshare) {

    /** An instance to call. */
    public record Target(String id, String url) {
    }
}
