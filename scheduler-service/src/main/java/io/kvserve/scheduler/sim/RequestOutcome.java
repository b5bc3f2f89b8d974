package io.kvserve.scheduler.sim;

/**
 * One finished request.
 *
 * @param request            the request
 * @param instanceId         where it ran
 * @param placedSeconds      when the policy placed it (its arrival)
 * @param firstTokenSeconds  end of the step that completed its prompt
 * @param finishSeconds      end of the step that gave its last token
 * @param numHitTokens       prompt tokens found in the instance's cache at admission (delivered hit)
 * @param predictedHitTokens prompt tokens the policy expected to hit (its {@code Placement})
 */
public record RequestOutcome(SimRequest request, String instanceId, double placedSeconds, double firstTokenSeconds,
                             double finishSeconds, int numHitTokens, int predictedHitTokens) {

    public double ttftSeconds() {
        return firstTokenSeconds - request.arrivalSeconds();
    }
}
