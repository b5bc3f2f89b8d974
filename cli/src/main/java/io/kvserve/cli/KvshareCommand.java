package io.kvserve.cli;

import io.kvserve.kvshare.KvshareApplication;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kvserve kvshare}: one kvshare replica, the prefix-cache index over the platform's Redis. */
@Command(name = "kvshare", mixinStandardHelpOptions = true,
        description = {"Run kvshare: consume the instances' KV events from Redis into the shared prefix-cache index "
                + "and answer hit queries (POST /v1/hits), with the operator API for tenants, published prefixes "
                + "and stats. See kvshare-service/README.md."})
final class KvshareCommand implements Callable<Integer> {

    @Option(names = {"-p", "--port"}, defaultValue = "8100", description = "HTTP port (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--redis-url", defaultValue = "redis://127.0.0.1:6379",
            description = "The platform's Redis (default ${DEFAULT-VALUE}).")
    String redisUrl;

    @Option(names = "--operator-token", description = "Bearer token of the operator API (default: KVSHARE_OPERATOR_TOKEN, else the operator API is off).")
    String operatorToken;

    @Option(names = "--set", description = "Any kvshare property, key=value (repeatable), e.g. --set kvshare.gap-grace=5s.")
    Map<String, String> properties = Map.of();

    @Override
    public Integer call() throws InterruptedException {
        List<String> args = new ArrayList<>();
        args.add("--server.port=" + port);
        args.add("--kvshare.redis-url=" + redisUrl);
        String token = operatorToken != null ? operatorToken : System.getenv("KVSHARE_OPERATOR_TOKEN");
        if (token != null) {
            args.add("--kvshare.operator-token=" + token);
        }
        properties.forEach((key, value) -> args.add("--" + key + "=" + value));
        return ServiceRunner.runUntilClosed(KvshareApplication.create(), args);
    }
}
