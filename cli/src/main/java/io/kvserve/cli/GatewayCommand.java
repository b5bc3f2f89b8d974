package io.kvserve.cli;

import io.kvserve.gateway.GatewayApplication;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code kvserve gateway}: the tenant-facing OpenAI-compatible edge (keys, quotas, placement, relay). */
@Command(name = "gateway", mixinStandardHelpOptions = true,
        description = {"Run the gateway: the tenants' OpenAI API (POST /v1/chat/completions, /v1/completions, "
                + "GET /v1/models) with API keys and quotas, placement by the scheduler and streams relayed from "
                + "the inference instances; the operator API under /admin/v1. See gateway-service/README.md."})
final class GatewayCommand implements Callable<Integer> {

    @Option(names = {"-p", "--port"}, defaultValue = "8080", description = "HTTP port (default ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = "--redis-url", defaultValue = "redis://127.0.0.1:6379",
            description = "The Redis holding tenants, keys and quota counters (default ${DEFAULT-VALUE}).")
    String redisUrl;

    @Option(names = "--scheduler-url", defaultValue = "http://127.0.0.1:8200",
            description = "The scheduler's base URL (default ${DEFAULT-VALUE}).")
    String schedulerUrl;

    @Option(names = "--operator-token", description = "Bearer token of the operator API /admin/v1 (default: GATEWAY_OPERATOR_TOKEN, else the admin API is off).")
    String operatorToken;

    @Option(names = "--internal-token", description = "Bearer token sent to the instances' internal generate endpoint "
            + "(their kvserve.instance.internal-token; default: none).")
    String internalToken;

    @Option(names = "--set", description = "Any gateway property, key=value (repeatable), e.g. --set gateway.routing.first-token-timeout=30s.")
    Map<String, String> properties = Map.of();

    @Override
    public Integer call() throws InterruptedException {
        return ServiceRunner.runUntilClosed(GatewayApplication.create(), arguments());
    }

    /** The service's {@code --key=value} arguments; the operator token from the environment when the option is absent. */
    List<String> arguments() {
        List<String> args = new ArrayList<>();
        args.add("--server.port=" + port);
        args.add("--gateway.redis.url=" + redisUrl);
        args.add("--gateway.routing.scheduler-url=" + schedulerUrl);
        String operator = operatorToken != null ? operatorToken : System.getenv("GATEWAY_OPERATOR_TOKEN");
        if (operator != null) {
            args.add("--gateway.admin.operator-token=" + operator);
        }
        if (internalToken != null) {
            args.add("--gateway.routing.internal-token=" + internalToken);
        }
        properties.forEach((key, value) -> args.add("--" + key + "=" + value));
        return args;
    }
}
