package dev.quanta.runner;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code quanta} command line: one subcommand per job, each documented by {@code --help}. */
@Command(
        name = "quanta",
        mixinStandardHelpOptions = true,
        // Every subcommand takes --help (and --version) too, as the usage errors say.
        scope = CommandLine.ScopeType.INHERIT,
        versionProvider = QuantaCli.Version.class,
        description = "Quanta, a pure-Java ONNX inference engine.",
        subcommands = {DemoCommand.class, RunCommand.class, InfoCommand.class, BenchCommand.class, ProfileCommand.class,
                EmbedCommand.class, ConformanceCommand.class, CommandLine.HelpCommand.class})
public final class QuantaCli implements Callable<Integer> {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams and returns its exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new QuantaCli());
        cli.setOut(out);
        cli.setErr(err);
        // Every failure is one line naming the command; QUANTA_DEBUG=1 adds the stack trace.
        cli.setExecutionExceptionHandler((exception, command, parsed) -> {
            String message = exception.getMessage() == null ? exception.toString() : exception.getMessage();
            err.println("quanta " + command.getCommandName() + ": " + message.strip().replaceAll("\\s*\\n\\s*", " "));
            if (System.getenv("QUANTA_DEBUG") != null) {
                exception.printStackTrace(err);
            }
            return 1;
        });
        // A wrong option or argument: one line too, and where the usage is.
        cli.setParameterExceptionHandler((exception, arguments) -> {
            CommandLine command = exception.getCommandLine();
            String name = command.getCommandSpec().qualifiedName();
            err.println(name + ": " + exception.getMessage().strip().replaceAll("\\s*\\n\\s*", " ")
                    + " (" + name + " --help for the usage)");
            return 2;
        });
        return cli.execute(args);
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    /** Prints the version recorded in the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = QuantaCli.class.getPackage().getImplementationVersion();
            return new String[] {
                "quanta " + (version == null ? "(development build)" : version),
                "JVM: " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"
            };
        }
    }
}
