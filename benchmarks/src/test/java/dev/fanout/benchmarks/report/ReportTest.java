package dev.fanout.benchmarks.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {

  private static Row time(String benchmark, Map<String, String> params, double ms) {
    return new Row(benchmark, params, "avgt", ms, 0.5, "ms/op");
  }

  private static Row rate(String benchmark, Map<String, String> params, double perSecond) {
    return new Row(benchmark, params, "thrpt", perSecond, Double.NaN, "ops/s");
  }

  private static List<Row> sample() {
    List<Row> rows = new ArrayList<>();
    rows.add(time("CustomersBenchmark.gather", Map.of("customers", "30", "runner", "sequential"), 600));
    rows.add(time("CustomersBenchmark.gather", Map.of("customers", "30", "runner", "fanout"), 22));
    rows.add(time("CustomersBenchmark.gather", Map.of("customers", "5", "runner", "sequential"), 100));
    rows.add(time("CustomersBenchmark.gather", Map.of("customers", "5", "runner", "fanout"), 20));
    rows.add(time("PeerBenchmark.noop10000", Map.of("runner", "fanout"), 4));
    rows.add(time("PeerBenchmark.noop10000", Map.of("runner", "virtualThreads"), 3));
    rows.add(time("PeerBenchmark.noop10000", Map.of("runner", "resilience4j"), 5));
    rows.add(time("PeerBenchmark.noop10000", Map.of("runner", "failsafe"), 3.8));
    rows.add(rate("RateAccuracyBenchmark.acquire", Map.of("limiter", "fanout"), 991));
    rows.add(rate("CredentialCheckBenchmark.checks", Map.of("database", "h2", "workers", "1"), 90));
    rows.add(rate("CredentialCheckBenchmark.checks", Map.of("database", "h2", "workers", "10"), 855));
    return rows;
  }

  @Test
  void speedUpIsBaselineOverCandidateForTimesAndTheInverseForThroughputs() {
    List<Report.Comparison> scenarios = new Report(sample()).scenarios();

    assertThat(scenarios)
        .extracting(Report.Comparison::label)
        .containsExactly("5 customers", "30 customers", "credential checks, 10 workers (H2)");
    assertThat(scenarios.get(0).speedUp()).isEqualTo(5.0);
    assertThat(scenarios.get(1).speedUp()).isCloseTo(27.27, offset(0.01));
    assertThat(scenarios.get(2).speedUp()).isEqualTo(9.5);
  }

  @Test
  void goalsCarryTheMeasuredRatiosAndWhetherTheyWereMet() {
    List<Report.Goal> goals = new Report(sample()).goals();

    assertThat(goals)
        .extracting(Report.Goal::measured, Report.Goal::met)
        .containsExactly(
            tuple("27.3×", true),
            tuple("1.33×", true),
            tuple("1.25×", true),
            tuple("0.95×", false),
            tuple("991.0/s (-0.90%)", true));
  }

  @Test
  void aRateAboveTheSetOneOrMoreThanTwoPercentUnderItMissesTheGoal() {
    for (int measured : new int[] {1_002, 1_011, 979}) {
      List<Row> rows = List.of(rate("RateAccuracyBenchmark.acquire", Map.of("limiter", "fanout"), measured));

      assertThat(new Report(rows).goals())
          .as("%d/s", measured)
          .singleElement()
          .extracting(Report.Goal::met)
          .isEqualTo(false);
    }
    List<Row> atTheLowerEdge = List.of(rate("RateAccuracyBenchmark.acquire", Map.of("limiter", "fanout"), 980));
    assertThat(new Report(atTheLowerEdge).goals()).singleElement().extracting(Report.Goal::met).isEqualTo(true);
  }

  @Test
  void markdownHasEachSectionWithDataAndEveryScore(@TempDir Path dir) throws Exception {
    Report report = new Report(sample());
    String md = report.markdown("Machine: test");

    assertThat(md)
        .contains("## Goals", "## Scenarios", "## Peers on the same work", "## Limiters' real rates")
        .contains("| 30 customers | 600.0 ms/op | 22.0 ms/op | 27.3× |")
        .contains("| resilience4j | 5.000 ms/op (1.25×) |")
        .contains("| failsafe | 3.800 ms/op (0.95×) |")
        .contains("| no-op tasks: failsafe composition time over the pool's | 0.95× | > 1× (pool ahead) | **no** |")
        .contains("| CredentialCheckBenchmark.checks | database=h2 workers=10 | thrpt | 855.0 | – | ops/s |");
    assertThat(md.lines().filter(line -> line.startsWith("| ") && line.contains("Benchmark."))).hasSize(11);

    List<Path> charts = Charts.write(report, dir);
    assertThat(charts).containsExactly(dir.resolve(Charts.SPEED_UPS), dir.resolve(Charts.PEERS));
    for (Path chart : charts) {
      byte[] png = Files.readAllBytes(chart);
      assertThat(png).startsWith(0x89, 'P', 'N', 'G');
    }
  }

  @Test
  void sectionsWithoutDataAreLeftOut() {
    String md = new Report(List.of(time("RetryBenchmark.happyPath", Map.of("policy", "fanout"), 0.1))).markdown("h");

    assertThat(md).doesNotContain("## Goals", "## Scenarios", "## Peers", "## Limiters").contains("## Every score");
  }
}
