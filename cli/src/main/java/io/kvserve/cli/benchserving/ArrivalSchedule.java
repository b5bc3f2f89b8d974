package io.kvserve.cli.benchserving;

/** When the open loop sends its next request: the k-th call gives the k-th request's time. */
interface ArrivalSchedule {

    /** The next arrival, in seconds from the start of the measured phase. */
    double nextSeconds();
}
