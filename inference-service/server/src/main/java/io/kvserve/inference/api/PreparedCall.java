package io.kvserve.inference.api;

import io.kvserve.common.openai.GenerateRequest.Api;
import io.kvserve.common.openai.GenerationParams;

/**
 * One API call, parsed and tokenized, ready to become engine requests.
 *
 * @param api                which chunk format to answer in
 * @param responseId         {@code chatcmpl-...} / {@code cmpl-...}, also the engine requests' id prefix
 * @param params             sampling and stopping
 * @param stream             answer as server-sent events
 * @param includeUsage       a final usage chunk when streaming
 * @param promptIds          the prompt's tokens
 * @param echoText           text to put before choice text (completions {@code echo}); empty for none
 * @param tenantId           the tenant, null for a public call
 * @param cacheSalt          the tenant's salt, null for the engine's default
 * @param numPublishedBlocks leading blocks in the published namespace
 */
record PreparedCall(Api api, String responseId, GenerationParams params, boolean stream, boolean includeUsage,
                    int[] promptIds, String echoText, String tenantId, byte[] cacheSalt, int numPublishedBlocks) {
}
