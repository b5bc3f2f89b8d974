package io.kvserve.scheduler.sim;

import java.util.Iterator;
import java.util.List;

/** A fixed trace for tests. */
record ListWorkload(Iterator<SimRequest> requests) implements Workload {

    static ListWorkload of(SimRequest... requests) {
        return new ListWorkload(List.of(requests).iterator());
    }

    @Override
    public String name() {
        return "list";
    }

    @Override
    public SimRequest next() {
        return requests.hasNext() ? requests.next() : null;
    }
}
