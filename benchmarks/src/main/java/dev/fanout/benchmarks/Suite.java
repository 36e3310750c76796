package dev.fanout.benchmarks;

import dev.fanout.benchmarks.report.Charts;
import dev.fanout.benchmarks.report.Report;
import dev.fanout.benchmarks.report.Row;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the benchmark suite and writes, into one folder: {@code jmh-result.json} (JMH's own JSON),
 * {@code results.md} (goals, speed-ups, peers, limiters, every score) and the PNG charts.
 *
 * <pre>
 * java -cp benchmarks.jar dev.fanout.benchmarks.Suite [--quick | --smoke | --full] [--out DIR] [REGEX ...]
 * </pre>
 *
 * <ul>
 *   <li>{@code --quick} (default): the scenarios and the peers, one fork, two 1 s warm-ups and four
 *       1 s measurements each: about 9 minutes on 2 cores.
 *   <li>{@code --smoke}: every benchmark once for 100 ms in this JVM, output to a log file: proves
 *       that the jar, every benchmark and the report still work (the build runs it).
 *   <li>{@code --full}: every benchmark with its own annotated iterations, forks and parameters.
 * </ul>
 *
 * {@code REGEX} arguments replace the suite's benchmark selection (JMH include patterns).
 */
public final class Suite {
  /** The quick suite: each scenario, the peers and the limiters. */
  static final List<String> QUICK =
      List.of(
          "CustomersBenchmark",
          "AccountScanBenchmark",
          "NamespaceBenchmark",
          "CredentialCheckBenchmark",
          "ChunkBenchmark",
          "ChunkPostgresBenchmark",
          "PeerBenchmark",
          "RateAccuracyBenchmark",
          "RateGateBenchmark",
          "RetryBenchmark");

  /** Everything: the quick suite and the claim-lease coordination benchmark. */
  static final List<String> FULL = concat(QUICK, List.of("ClaimLeaseBenchmark"));

  private Suite() {}

  enum Mode {
    QUICK,
    SMOKE,
    FULL
  }

  public static void main(String[] args) throws RunnerException, IOException {
    Mode mode = Mode.QUICK;
    Path out = Path.of("results");
    List<String> includes = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick" -> mode = Mode.QUICK;
        case "--smoke" -> mode = Mode.SMOKE;
        case "--full" -> mode = Mode.FULL;
        case "--out" -> {
          if (i + 1 == args.length) {
            throw new IllegalArgumentException("--out needs a folder");
          }
          out = Path.of(args[++i]);
        }
        default -> {
          if (args[i].startsWith("--")) {
            throw new IllegalArgumentException(
                "unknown option '" + args[i] + "'; use --quick, --smoke, --full, --out DIR");
          }
          includes.add(args[i]);
        }
      }
    }
    if (includes.isEmpty()) {
      includes.addAll(mode == Mode.FULL ? FULL : QUICK);
    }
    Files.createDirectories(out);
    Path json = out.resolve("jmh-result.json");

    ChainedOptionsBuilder options =
        new OptionsBuilder()
            .result(json.toString())
            .resultFormat(ResultFormatType.JSON)
            .shouldFailOnError(true);
    for (String include : includes) {
      options.include(include.contains(".") ? include : "\\." + include + "\\.");
    }
    switch (mode) {
      case QUICK ->
          options
              .forks(1)
              .warmupIterations(2)
              .warmupTime(TimeValue.seconds(1))
              .measurementIterations(4)
              .measurementTime(TimeValue.seconds(1));
      case SMOKE ->
          options
              .forks(0)
              .warmupIterations(0)
              .measurementIterations(1)
              .measurementTime(TimeValue.milliseconds(100))
              .output(out.resolve("jmh-output.log").toString());
      case FULL -> {}
    }

    Instant started = Instant.now();
    Collection<RunResult> results = new Runner(options.build()).run();
    Duration took = Duration.between(started, Instant.now());
    List<Row> rows = results.stream().map(Row::of).toList();
    Report report = new Report(rows);
    Path markdown = out.resolve("results.md");
    Files.writeString(markdown, report.markdown(header(mode, started, took)));
    List<Path> charts = Charts.write(report, out);
    System.out.printf(
        Locale.ROOT,
        "%d results in %d s: %s, %s, %s%n",
        rows.size(),
        took.toSeconds(),
        json,
        markdown,
        charts);
    long missed = report.goals().stream().filter(goal -> !goal.met()).count();
    if (missed > 0 && mode != Mode.SMOKE) {
      System.out.printf(Locale.ROOT, "%d goal(s) not met this run; see %s%n", missed, markdown);
    }
  }

  /** Where and how the numbers were taken. */
  static String header(Mode mode, Instant started, Duration took) {
    Runtime runtime = Runtime.getRuntime();
    String settings =
        switch (mode) {
          case QUICK -> "quick: 1 fork, 2 × 1 s warm-up, 4 × 1 s measurement per benchmark";
          case SMOKE -> "smoke: 1 × 100 ms, no warm-up, in one JVM (checks that it runs; not data)";
          case FULL -> "full: each benchmark's own forks and iterations";
        };
    return String.format(
        Locale.ROOT,
        "Run %s UTC, %d min %d s, mode %s.%n%n"
            + "Machine: %d CPUs seen by the JVM, %.0f GiB max heap, %s %s (%s), %s %s.%n",
        started.atOffset(ZoneOffset.UTC).truncatedTo(ChronoUnit.MINUTES).toLocalDateTime(),
        took.toMinutes(),
        took.toSecondsPart(),
        settings,
        runtime.availableProcessors(),
        runtime.maxMemory() / (1024.0 * 1024 * 1024),
        System.getProperty("os.name"),
        System.getProperty("os.version"),
        System.getProperty("os.arch"),
        ManagementFactory.getRuntimeMXBean().getVmName(),
        Runtime.version());
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> all = new ArrayList<>(a);
    all.addAll(b);
    return List.copyOf(all);
  }
}
