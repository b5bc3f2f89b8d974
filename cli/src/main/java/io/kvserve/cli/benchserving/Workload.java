package io.kvserve.cli.benchserving;

import java.util.List;
import java.util.Map;

/**
 * A source of requests. The same seed and index give the same request, so two runs (two servers,
 * two configurations) see the same prompts: a shared-prefix workload derives the tenant and its
 * prefix from the index, a multi-turn workload the conversation and turn, a trace workload reads its
 * i-th line.
 */
interface Workload {

    /** The name written into the report ({@code random}, {@code shared-prefix}, ...). */
    String name();

    /** The {@code index}-th request of the run, from 0; deterministic per the workload's seed. */
    BenchRequest request(int index);

    /** How many requests there are; -1 for as many as asked (the synthetic workloads). */
    default int size() {
        return -1;
    }

    /** The tenants its requests name, in a stable order; empty when its requests have none. */
    default List<String> tenants() {
        return List.of();
    }

    /** The workload's parameters for the report's {@code config.workload_params}. */
    Map<String, Object> params();
}
