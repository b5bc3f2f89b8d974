package io.kvserve.cli;

import io.kvserve.scheduler.SchedulerApplication;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kvserve scheduler}: the cache-aware placement service. */
@Command(name = "scheduler", mixinStandardHelpOptions = true,
        description = {"Run the scheduler: places requests (POST /v1/place) on the instance with the best mix of "
                + "expected prefix hit (from kvshare) and load. See scheduler-service/README.md."})
final class SchedulerCommand implements Callable<Integer> {

    @Option(names = {"-p", "--port"}, defaultValue = "8200", description = "HTTP port (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--redis-url", defaultValue = "redis://127.0.0.1:6379",
            description = "The platform's Redis (default ${DEFAULT-VALUE}).")
    String redisUrl;

    @Option(names = "--kvshare-url", description = "kvshare's base URL, e.g. http://127.0.0.1:8100 (default: none, placement by load alone).")
    String kvshareUrl;

    @Option(names = "--model", required = true, description = "NAME=FILE: a served model and its file (repeatable); the tokenizer and chat template come from it.")
    Map<String, Path> models;

    @Option(names = "--policy", defaultValue = "combined", description = "round-robin, least-load, prefix-only or combined (default ${DEFAULT-VALUE}).")
    String policy;

    @Option(names = "--set", description = "Any scheduler property, key=value (repeatable).")
    Map<String, String> properties = Map.of();

    @Override
    public Integer call() throws InterruptedException {
        List<String> args = new ArrayList<>();
        args.add("--server.port=" + port);
        args.add("--scheduler.redis-url=" + redisUrl);
        if (kvshareUrl != null) {
            args.add("--scheduler.kvshare-url=" + kvshareUrl);
        }
        args.add("--scheduler.policy=" + policy);
        models.forEach((name, file) -> args.add("--scheduler.models." + name + "=" + file.toAbsolutePath()));
        properties.forEach((key, value) -> args.add("--" + key + "=" + value));
        return ServiceRunner.runUntilClosed(SchedulerApplication.create(), args);
    }
}
