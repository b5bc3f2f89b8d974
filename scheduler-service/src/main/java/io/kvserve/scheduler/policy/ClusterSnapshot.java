package io.kvserve.scheduler.policy;

import java.util.List;

/**
 * The instances of one model at one moment, in a stable order (by id), plus the requests this
 * scheduler placed on each since the instances last reported (so a burst is not all sent to the
 * instance whose heartbeat is oldest).
 *
 * @param instances      the live instances serving the model
 * @param nowMs          the snapshot's time
 */
public record ClusterSnapshot(List<InstanceView> instances, long nowMs) {

    public ClusterSnapshot {
        instances = List.copyOf(instances);
    }
}
