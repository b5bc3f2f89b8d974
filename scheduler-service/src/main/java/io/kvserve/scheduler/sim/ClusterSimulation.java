package io.kvserve.scheduler.sim;

import io.kvserve.scheduler.policy.ClusterSnapshot;
import io.kvserve.scheduler.policy.InstanceView;
import io.kvserve.scheduler.policy.Placement;
import io.kvserve.scheduler.policy.PlacementPolicy;
import io.kvserve.scheduler.policy.PlacementRequest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;

/**
 * The event loop: one workload, one policy, a cluster of {@link SimInstance}s.
 *
 * <p>Events are arrivals (pulled from the workload one at a time) and step ends (one per busy
 * instance), plus heartbeats when the snapshot is stale. Ties go to step ends first, then in the
 * order events were scheduled, so a run is a function of its inputs. At each arrival the loop builds
 * what the service would see: a {@link ClusterSnapshot} of the instances' load and KV usage (live,
 * or as of the last heartbeat plus the requests placed since) and a {@link PlacementRequest} whose
 * {@code cachedTokens} are each instance's true leading-prefix hit (what kvshare reports); the
 * request goes to the policy's first choice.
 *
 * <p>The oracle ({@link #oracle}) is the same loop over one instance with an unbounded cache and the
 * pooled compute of all instances: every reusable prefix is found, so no placement beats its hit rate.
 */
public final class ClusterSimulation {

    private static final int STEP_END = 0, HEARTBEAT = 1;

    private record Event(double seconds, long seq, int kind, int instance) {
    }

    private final List<SimInstance> instances = new ArrayList<>();
    private final Map<String, Integer> indexById = new HashMap<>();
    private final PlacementPolicy policy;
    private final double heartbeatSeconds;
    private final PriorityQueue<Event> events = new PriorityQueue<>((a, b) -> a.seconds != b.seconds
            ? Double.compare(a.seconds, b.seconds) : a.kind != b.kind ? Integer.compare(a.kind, b.kind)
            : Long.compare(a.seq, b.seq));
    private final List<RequestOutcome> outcomes = new ArrayList<>();
    private InstanceView[] reportedViews;
    private int[] numPlacedSinceHeartbeat;
    private long nextSeq;
    private int numRejected;

    /**
     * @param numInstances     instances, named {@code i0, i1, ...}
     * @param spec             each instance's shape
     * @param policy           the policy under test (fresh: it may keep state)
     * @param heartbeatSeconds 0 for a live snapshot; else load figures are as of the last heartbeat
     */
    public ClusterSimulation(int numInstances, InstanceSpec spec, PlacementPolicy policy, double heartbeatSeconds) {
        if (numInstances < 1 || heartbeatSeconds < 0) {
            throw new IllegalArgumentException("need numInstances >= 1 and heartbeatSeconds >= 0, got "
                    + numInstances + ", " + heartbeatSeconds);
        }
        for (int i = 0; i < numInstances; i++) {
            String id = "i" + i;
            indexById.put(id, i);
            instances.add(new SimInstance(id, spec, outcomes::add));
        }
        this.policy = policy;
        this.heartbeatSeconds = heartbeatSeconds;
    }

    /** The bound: one instance, unbounded cache, the compute of {@code numInstances}. */
    public static ClusterSimulation oracle(int numInstances, InstanceSpec spec) {
        return new ClusterSimulation(1, spec.pooledUnbounded(numInstances), new PlacementPolicy() {
            @Override
            public String name() {
                return "oracle";
            }

            @Override
            public Placement place(PlacementRequest request, ClusterSnapshot cluster) {
                return new Placement(List.of("i0"), request.cachedOn("i0"), "oracle");
            }
        }, 0);
    }

    /** Finished requests, in finishing order. */
    public List<RequestOutcome> outcomes() {
        return outcomes;
    }

    public List<SimInstance> instances() {
        return instances;
    }

    /** Runs the whole trace and drains the cluster. */
    public RunResult run(Workload workload, String policyName, int numInstancesReported) {
        if (heartbeatSeconds > 0) {
            heartbeat(0);
        }
        SimRequest next = workload.next();
        while (next != null || !events.isEmpty()) {
            if (next != null && (events.isEmpty() || next.arrivalSeconds() < events.peek().seconds)) {
                arrive(next);
                next = workload.next();
                continue;
            }
            Event event = events.poll();
            if (event.kind == STEP_END) {
                SimInstance instance = instances.get(event.instance);
                instance.finishStep(event.seconds);
                startStep(event.instance, event.seconds);
            } else if (next != null) {
                heartbeat(event.seconds);
            }
        }
        double[] busy = new double[instances.size()];
        for (int i = 0; i < busy.length; i++) {
            busy[i] = instances.get(i).busySeconds();
        }
        if (numInstancesReported != instances.size()) {
            // the oracle's one pooled instance stands for numInstancesReported busy ones
            busy = new double[] {busy[0]};
        }
        return RunResult.of(policyName, numInstancesReported, outcomes, numRejected, busy);
    }

    private void arrive(SimRequest request) {
        double now = request.arrivalSeconds();
        List<InstanceView> views = new ArrayList<>(instances.size());
        Map<String, Integer> cached = HashMap.newHashMap(instances.size());
        for (int i = 0; i < instances.size(); i++) {
            SimInstance instance = instances.get(i);
            if (heartbeatSeconds > 0) {
                InstanceView v = reportedViews[i];
                views.add(new InstanceView(v.id(), v.numRunning(), v.numWaiting() + numPlacedSinceHeartbeat[i],
                        v.kvCacheUsage(), v.kvCapacityTokens(), v.maxModelLen(), v.prefillTokensPerSecond(), false));
            } else {
                views.add(view(instance));
            }
            cached.put(instance.id(), instance.cachedTokens(request));
        }
        Placement placement = policy.place(new PlacementRequest(request.tenantId(), request.numPromptTokens(),
                request.numOutputTokens(), Optional.of(cached)), new ClusterSnapshot(views, (long) (now * 1000)));
        if (!placement.placed()) {
            numRejected++;
            return;
        }
        String chosen = placement.rankedInstanceIds().getFirst();
        Integer index = indexById.get(chosen);
        if (index == null) {
            throw new IllegalStateException("policy " + policy.name() + " chose unknown instance '" + chosen + "'");
        }
        SimInstance instance = instances.get(index);
        instance.enqueue(request, now, placement.predictedHitTokens());
        if (numPlacedSinceHeartbeat != null) {
            numPlacedSinceHeartbeat[index]++;
        }
        if (!instance.stepping()) {
            startStep(index, now);
        }
    }

    private void startStep(int index, double now) {
        double seconds = instances.get(index).startStep(now);
        if (seconds >= 0) {
            events.add(new Event(now + seconds, nextSeq++, STEP_END, index));
        }
    }

    private void heartbeat(double now) {
        reportedViews = new InstanceView[instances.size()];
        numPlacedSinceHeartbeat = new int[instances.size()];
        for (int i = 0; i < instances.size(); i++) {
            reportedViews[i] = view(instances.get(i));
        }
        events.add(new Event(now + heartbeatSeconds, nextSeq++, HEARTBEAT, -1));
    }

    private static InstanceView view(SimInstance instance) {
        InstanceSpec spec = instance.spec();
        long capacityTokens = spec.numKvBlocks() == Long.MAX_VALUE ? Long.MAX_VALUE
                : spec.numKvBlocks() * SimRequest.BLOCK_SIZE;
        return new InstanceView(instance.id(), instance.numRunning(), instance.numWaiting(), instance.cache().usage(),
                capacityTokens, spec.maxModelLen(), spec.cost().prefillTokensPerSecond(spec.maxNumBatchedTokens()),
                false);
    }
}
