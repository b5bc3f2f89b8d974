package io.kvserve.scheduler.policy;

import java.util.List;

/**
 * A policy's answer: instances in order of preference (the first is the choice, the rest are the
 * gateway's fallbacks), and the prefix hit predicted on the choice.
 *
 * @param rankedInstanceIds   every eligible instance, best first; empty when none can take the request
 * @param predictedHitTokens  prompt tokens expected from the chosen instance's prefix cache
 * @param reason              why the first was chosen, for logs and metrics (e.g. "prefix", "load", "guard")
 */
public record Placement(List<String> rankedInstanceIds, int predictedHitTokens, String reason) {

    public Placement {
        rankedInstanceIds = List.copyOf(rankedInstanceIds);
    }

    public boolean placed() {
        return !rankedInstanceIds.isEmpty();
    }
}
