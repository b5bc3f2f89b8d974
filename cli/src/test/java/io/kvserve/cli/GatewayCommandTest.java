package io.kvserve.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class GatewayCommandTest {

    private static GatewayCommand parsed(String... args) {
        GatewayCommand command = new GatewayCommand();
        new CommandLine(command).parseArgs(args);
        return command;
    }

    @Test
    void arguments_defaults_portRedisAndSchedulerOfTheLocalPlatform() {
        assertThat(parsed().arguments()).contains("--server.port=8080", "--gateway.redis.url=redis://127.0.0.1:6379",
                "--gateway.routing.scheduler-url=http://127.0.0.1:8200");
        assertThat(parsed().arguments()).noneMatch(a -> a.startsWith("--gateway.routing.internal-token="));
    }

    @Test
    void arguments_everyOption_becomesItsGatewayProperty() {
        assertThat(parsed("--port", "9090", "--redis-url", "redis://10.0.0.5:6380/2", "--scheduler-url",
                "http://10.0.0.6:8200", "--operator-token", "op-secret", "--internal-token", "int-secret",
                "--set", "gateway.routing.first-token-timeout=30s", "--set", "gateway.api.max-n=2").arguments())
                .containsExactly("--server.port=9090", "--gateway.redis.url=redis://10.0.0.5:6380/2",
                        "--gateway.routing.scheduler-url=http://10.0.0.6:8200", "--gateway.admin.operator-token=op-secret",
                        "--gateway.routing.internal-token=int-secret", "--gateway.routing.first-token-timeout=30s",
                        "--gateway.api.max-n=2");
    }

    @Test
    void help_kvserve_listsGatewayAndBenchGateway() {
        CliRun help = CliRun.of("--help");
        assertThat(help.exitCode()).isZero();
        assertThat(help.out()).contains("gateway").contains("bench-gateway");
        CliRun gatewayHelp = CliRun.of("gateway", "--help");
        assertThat(gatewayHelp.out()).contains("--scheduler-url").contains("--operator-token").contains("--internal-token");
    }

    @Test
    void benchGateway_oneRound_isRejectedBeforeAnythingStarts() {
        CliRun r = CliRun.of("bench-gateway", "--rounds", "1");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).startsWith("kvserve: bench-gateway: --rounds 1 must be >= 2").doesNotContain("\tat ");
    }

    @Test
    void benchGateway_gatewayUrlWithoutInstanceUrl_explainsTheDirectRouteNeedsIt() {
        CliRun r = CliRun.of("bench-gateway", "--gateway-url", "http://127.0.0.1:8080");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("--gateway-url and --instance-url go together");
    }

    @Test
    void benchGateway_concurrencyAboveTheOpenFileLimit_saysHowToRaiseIt() {
        CliRun r = CliRun.of("bench-gateway", "--concurrency", "100000000");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("open-file limit (ulimit -n)").contains("--concurrency 100000000");
    }
}
