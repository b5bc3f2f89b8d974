package io.kvserve.cli.benchserving;

/**
 * A source of requests. The same seed and index give the same request, so two runs (two servers,
 * two configurations) see the same prompts. Workloads to come (multi-tenant shared prefixes,
 * multi-turn conversations, replayed traces) implement this: a shared-prefix workload derives the
 * tenant and its prefix from the index, a trace workload reads its i-th line.
 */
interface Workload {

    /** The name written into the report ({@code random}, ...). */
    String name();

    /** The {@code index}-th request of the run, from 0; deterministic per the workload's seed. */
    BenchRequest request(int index);
}
