/**
 * The trace-driven placement simulator: the service's {@code PlacementPolicy} classes run over a
 * simulated cluster and are compared with an oracle bound, the way Caffeine's simulator compares
 * eviction policies [1].
 *
 * <h2>Model</h2>
 * <ol>
 *   <li>{@link io.kvserve.scheduler.sim.Workloads}: four deterministic traces (shared-prefix,
 *       few-shot, multi-turn, no-reuse) of prompts as tenant-salted block-hash chains over 16-token
 *       blocks, with Poisson, gamma or on/off arrivals ({@link io.kvserve.scheduler.sim.ArrivalProcess}).</li>
 *   <li>{@link io.kvserve.scheduler.sim.SimInstance}: the engine's continuous batching under a token
 *       budget (decodes first, then prefill chunks, then FCFS admissions; Sarathi-Serve [2]) over a
 *       {@link io.kvserve.scheduler.sim.PrefixCache} (vLLM's automatic prefix caching [3]: LRU over
 *       released blocks, running requests' blocks pinned); step time from
 *       {@link io.kvserve.scheduler.sim.CostModel}, fitted to kvserve's engine bench figures.</li>
 *   <li>{@link io.kvserve.scheduler.sim.ClusterSimulation}: the event loop (arrivals, step ends,
 *       optional heartbeats for a stale load snapshot); at each arrival the policy gets a
 *       {@code ClusterSnapshot} and a {@code PlacementRequest} with each instance's true leading
 *       hit (what kvshare reports; kvshare's index follows KV events, so it stays live even when
 *       load figures are stale) and the request goes to its first choice.</li>
 *   <li>The oracle: one instance with an unbounded cache and the pooled compute of all instances.
 *       It finds every reusable prefix, so no placement beats its hit rate (KVShare [4] reports hit
 *       rates against the same kind of bound).</li>
 * </ol>
 *
 * <h2>Running it</h2>
 * <pre>
 * export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
 * ./mvnw -q -B -o install -DskipTests -pl scheduler-service -am
 * ./mvnw -q -B -o dependency:build-classpath -pl scheduler-service -Dmdep.outputFile=/tmp/cp.txt
 * $JAVA_HOME/bin/java -cp scheduler-service/target/classes:$(cat /tmp/cp.txt) io.kvserve.scheduler.sim.Simulator \
 *     --workload shared-prefix --instances 4,16 --tenants 8 --duration 600s --seed 1 \
 *     --policies round-robin,least-load,prefix-only,combined --out target/sim
 * </pre>
 * Policies are found by name in {@link io.kvserve.scheduler.sim.PolicyRegistry}; other options are
 * listed on {@link io.kvserve.scheduler.sim.Simulator}.
 *
 * <h2>Left out</h2>
 * Preemption (a request takes all its blocks at admission and waits for them instead), the
 * engine's hit-ordered waiting queue with aging, the gateway's admission queue, answer blocks
 * entering the cache (a chat's next turn hits on the previous prompt, not on the answer), prefill
 * cost growing with context, approximate (DHD) reuse, instance failures.
 *
 * <p>[1] Caffeine simulator, github.com/ben-manes/caffeine/wiki/Simulator.
 * [2] Agrawal et al., Taming Throughput-Latency Tradeoff in LLM Inference with Sarathi-Serve, OSDI 2024.
 * [3] vLLM, Automatic Prefix Caching design doc.
 * [4] Yang et al., KVShare: Semantic-Aware Key-Value Cache Sharing for Efficient LLM Inference, 2025.
 */
package io.kvserve.scheduler.sim;
