package io.kvserve.gateway.status;

/**
 * One routed request as the status page lists it. A null count is unknown (no placement, or no usage
 * came back: the request was refused, failed or cancelled).
 *
 * @param endedAtMs          when it ended, epoch ms
 * @param requestId          its {@code x-request-id}
 * @param tenantId           the tenant
 * @param api                {@code chat.completions} or {@code completions}
 * @param model              the model placed on; null before a placement
 * @param instanceId         the instance that served it (the last one tried); null when none was called
 * @param numAttempts        instance calls made (failovers + 1)
 * @param outcome            as logged: {@code 200}, {@code failed_mid_stream}, {@code cancelled}, or a status
 * @param predictedHitTokens the scheduler's predicted prefix-cache hit
 * @param promptTokens       prompt tokens the instance reported
 * @param cachedTokens       of those, served from the prefix cache (the delivered hit)
 * @param completionTokens   tokens generated
 * @param timeToFirstTokenMs streams only: the first frame handed to the client, after the request arrived
 * @param durationMs         arrival to end
 */
public record RecentRequest(long endedAtMs, String requestId, String tenantId, String api, String model,
                            String instanceId, int numAttempts, String outcome, Integer predictedHitTokens,
                            Integer promptTokens, Integer cachedTokens, Integer completionTokens,
                            Double timeToFirstTokenMs, double durationMs) {
}
