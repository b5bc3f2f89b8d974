package io.kvserve.cli;

import io.kvserve.cli.benchserving.BenchGatewayCommand;
import io.kvserve.cli.benchserving.BenchServingCommand;
import io.kvserve.cli.benchserving.report.BenchReportCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The Java side of {@code bin/kvserve}: one entry point with each module's commands under it.
 * {@code up}/{@code down} live in the shell launcher, since they manage processes.
 */
@Command(name = "kvserve",
        mixinStandardHelpOptions = true,
        version = "kvserve 0.1.0-SNAPSHOT",
        description = "kvserve: multi-tenant LLM serving with a shared, tenant-salted prefix cache.",
        subcommands = {ModelCommand.class, TokenizeCommand.class, GenerateCommand.class, BenchCommand.class,
                ServeCommand.class, KvshareCommand.class, SchedulerCommand.class, GatewayCommand.class,
                BenchServingCommand.class, BenchReportCommand.class, BenchGatewayCommand.class, EmbeddedRedisCommand.class,
                CommandLine.HelpCommand.class},
        footer = {"", "Also (in bin/kvserve): up, down, bench-tokenizer. See README.md."})
public final class KvserveCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, also used by tests. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new KvserveCli());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            // Expected failures (bad file, bad value) get one clear line, not a stack trace.
            commandLine.getErr().println("kvserve: " + commandLine.getCommandName() + ": " + messageOf(e));
            if (System.getenv("KVSERVE_DEBUG") != null) {
                e.printStackTrace(commandLine.getErr());
            }
            return 1;
        });
        return cli;
    }

    private static String messageOf(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.toString() : message;
    }
}
