package dev.fanout.benchmarks.report;

import dev.fanout.benchmarks.Peers;
import dev.fanout.benchmarks.RateAccuracyBenchmark;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Turns a suite's results into what people read: the goals with the measured ratios, each
 * scenario's speed-up over its sequential baseline, the peers side by side, the limiters' real
 * rates, and every score. Works on whatever subset ran; a section with no data is left out.
 */
public final class Report {
  /** The works the peers are compared on, with their column titles. */
  static final Map<String, String> PEER_WORKS =
      orderedMap(
          "PeerBenchmark.noop10000", "no-op × 10,000",
          "PeerBenchmark.io1000x20ms", "1,000 calls × 20 ms",
          "AccountScanBenchmark.scanAndConfigure", "account scan (gate 1 ms)");

  private final List<Row> rows;

  public Report(List<Row> rows) {
    this.rows = List.copyOf(rows);
  }

  /** A parallel run against its baseline. */
  public record Comparison(String label, String shortLabel, Row baseline, Row candidate) {
    /** How many times faster (time) or more (throughput) the candidate is than the baseline. */
    public double speedUp() {
      return candidate.higherIsBetter()
          ? candidate.score() / baseline.score()
          : baseline.score() / candidate.score();
    }
  }

  /** One of the suite's goals and whether this run met it. */
  public record Goal(String name, String measured, String target, boolean met) {}

  /** Each scenario's parallel runs against its sequential (or one-worker) baseline. */
  public List<Comparison> scenarios() {
    List<Comparison> out = new ArrayList<>();
    for (String n : values("CustomersBenchmark.gather", "customers")) {
      compare(
          out,
          n + " customers",
          n + " customers",
          "CustomersBenchmark.gather",
          Map.of("customers", n, "runner", "sequential"),
          Map.of("customers", n, "runner", "fanout"));
    }
    compare(
        out,
        "10 accounts × 5 regions, 20 clusters",
        "account scan",
        "AccountScanBenchmark.scanAndConfigure",
        Map.of("runner", "sequential"),
        Map.of("runner", "fanout"));
    compare(
        out,
        "3 namespaces × plan",
        "3 namespaces",
        "NamespaceBenchmark.provision",
        Map.of("runner", "sequential"),
        Map.of("runner", "fanout"));
    for (String db : values("CredentialCheckBenchmark.checks", "database")) {
      for (String w : values("CredentialCheckBenchmark.checks", "workers")) {
        if (!w.equals("1")) {
          compare(
              out,
              "credential checks, " + w + " workers (" + databaseName(db) + ")",
              databaseName(db) + " checks ×" + w,
              "CredentialCheckBenchmark.checks",
              Map.of("database", db, "workers", "1"),
              Map.of("database", db, "workers", w));
        }
      }
    }
    for (String p : values("ChunkBenchmark.inMemory", "partitions")) {
      if (!p.equals("1")) {
        compare(
            out,
            "chunks in memory, " + p + " partitions",
            "chunks mem ×" + p,
            "ChunkBenchmark.inMemory",
            Map.of("partitions", "1"),
            Map.of("partitions", p));
      }
    }
    for (String rtt : values("ChunkPostgresBenchmark.postgres", "rttMicros")) {
      for (String p : values("ChunkPostgresBenchmark.postgres", "partitions")) {
        if (!p.equals("1")) {
          compare(
              out,
              "chunks to PostgreSQL"
                  + (rtt.equals("0") ? "" : " (+" + Integer.parseInt(rtt) / 1000.0 + " ms RTT)")
                  + ", "
                  + p
                  + " partitions",
              "chunks PG" + (rtt.equals("0") ? "" : "+RTT") + " ×" + p,
              "ChunkPostgresBenchmark.postgres",
              Map.of("rttMicros", rtt, "partitions", "1"),
              Map.of("rttMicros", rtt, "partitions", p));
        }
      }
    }
    return out;
  }

  /** The goals, as far as this run measured them. */
  public List<Goal> goals() {
    List<Goal> goals = new ArrayList<>();
    find("CustomersBenchmark.gather", Map.of("customers", "30", "runner", "sequential"))
        .ifPresent(
            seq ->
                find("CustomersBenchmark.gather", Map.of("customers", "30", "runner", "fanout"))
                    .ifPresent(
                        par -> {
                          double x = new Comparison("", "", seq, par).speedUp();
                          goals.add(
                              new Goal(
                                  "30 customers: parallel over sequential",
                                  times(x),
                                  "≥ 25× (at most 30×)",
                                  x >= 25));
                        }));
    Optional<Row> fanout = find("PeerBenchmark.noop10000", Map.of("runner", "fanout"));
    fanout.ifPresent(
        pool -> {
          find("PeerBenchmark.noop10000", Map.of("runner", "virtualThreads"))
              .ifPresent(
                  vt -> {
                    double x = pool.score() / vt.score();
                    goals.add(
                        new Goal(
                            "no-op tasks: pool time over plain virtual-thread executor",
                            times(x),
                            "≤ 1.5×",
                            x <= 1.5));
                  });
          for (String peer : List.of("resilience4j", "failsafe")) {
            find("PeerBenchmark.noop10000", Map.of("runner", peer))
                .ifPresent(
                    other -> {
                      double x = other.score() / pool.score();
                      goals.add(
                          new Goal(
                              "no-op tasks: " + peer + " composition time over the pool's",
                              times(x),
                              "> 1× (pool ahead)",
                              x > 1));
                    });
          }
        });
    find("RateAccuracyBenchmark.acquire", Map.of("limiter", "fanout"))
        .ifPresent(
            gate -> {
              double deviation = gate.score() / RateAccuracyBenchmark.RATE - 1;
              goals.add(
                  new Goal(
                      "rate gate: measured rate against " + RateAccuracyBenchmark.RATE + "/s",
                      String.format(Locale.ROOT, "%.1f/s (%+.2f%%)", gate.score(), deviation * 100),
                      "never above +0.1%, at most 2% under",
                      gate.score() <= RateAccuracyBenchmark.RATE * 1.001
                          && gate.score() >= RateAccuracyBenchmark.RATE * 0.98));
            });
    return goals;
  }

  /** The peers' scores on each work, by runner then work; absent where a runner did not run. */
  public Map<String, Map<String, Row>> peers() {
    Map<String, Map<String, Row>> table = new LinkedHashMap<>();
    for (String runner : Peers.NAMES) {
      Map<String, Row> byWork = new LinkedHashMap<>();
      for (String work : PEER_WORKS.keySet()) {
        find(work, Map.of("runner", runner)).ifPresent(row -> byWork.put(work, row));
      }
      if (!byWork.isEmpty()) {
        table.put(runner, byWork);
      }
    }
    return table;
  }

  /** The whole report in Markdown, under {@code header} (one or more lines). */
  public String markdown(String header) {
    StringBuilder md = new StringBuilder();
    md.append("# Benchmark results\n\n").append(header.strip()).append("\n");
    List<Goal> goals = goals();
    if (!goals.isEmpty()) {
      md.append("\n## Goals\n\n| goal | measured | target | met |\n|---|---:|---|---|\n");
      for (Goal goal : goals) {
        md.append("| ")
            .append(goal.name())
            .append(" | ")
            .append(goal.measured())
            .append(" | ")
            .append(goal.target())
            .append(" | ")
            .append(goal.met() ? "yes" : "**no**")
            .append(" |\n");
      }
    }
    List<Comparison> scenarios = scenarios();
    if (!scenarios.isEmpty()) {
      md.append(
          "\n## Scenarios: parallel against sequential\n\n"
              + "Latencies scaled 100×: a 2 s call takes 20 ms. Credential checks compare with one"
              + " worker, chunk ingestion with one partition.\n\n"
              + "| scenario | baseline | parallel | speed-up |\n|---|---:|---:|---:|\n");
      for (Comparison c : scenarios) {
        md.append("| ")
            .append(c.label())
            .append(" | ")
            .append(score(c.baseline()))
            .append(" | ")
            .append(score(c.candidate()))
            .append(" | ")
            .append(times(c.speedUp()))
            .append(" |\n");
      }
    }
    Map<String, Map<String, Row>> peers = peers();
    if (!peers.isEmpty()) {
      Set<String> works = new LinkedHashSet<>();
      peers.values().forEach(byWork -> works.addAll(byWork.keySet()));
      md.append(
          "\n## Peers on the same work\n\n"
              + "Time of one whole fan-out (lower is better), and in brackets that time over"
              + " fanout's.\n\n| runner |");
      works.forEach(w -> md.append(' ').append(PEER_WORKS.get(w)).append(" |"));
      md.append("\n|---|").append("---:|".repeat(works.size())).append('\n');
      for (var entry : peers.entrySet()) {
        md.append("| ").append(entry.getKey()).append(" |");
        for (String work : works) {
          Row row = entry.getValue().get(work);
          Row pool = peers.getOrDefault("fanout", Map.of()).get(work);
          md.append(' ');
          if (row != null) {
            md.append(score(row));
            if (pool != null) {
              md.append(String.format(Locale.ROOT, " (%.2f×)", row.score() / pool.score()));
            }
          } else {
            md.append('–');
          }
          md.append(" |");
        }
        md.append('\n');
      }
    }
    List<Row> limiters = select("RateAccuracyBenchmark.acquire");
    if (!limiters.isEmpty()) {
      md.append(
          "\n## Limiters' real rates\n\nFour threads acquire as fast as allowed from a limiter set"
              + " to "
              + RateAccuracyBenchmark.RATE
              + " permits/s (one every 1 ms), no burst.\n\n"
              + "| limiter | measured | deviation |\n|---|---:|---:|\n");
      for (Row row : limiters) {
        md.append(
            String.format(
                Locale.ROOT,
                "| %s | %.1f/s | %+.2f%% |%n",
                row.param("limiter"),
                row.score(),
                (row.score() / RateAccuracyBenchmark.RATE - 1) * 100));
      }
    }
    md.append(
        "\n## Every score\n\n| benchmark | parameters | mode | score | ± error | unit |\n"
            + "|---|---|---|---:|---:|---|\n");
    rows.stream()
        .sorted(Comparator.comparing(Row::benchmark))
        .forEach(
            row ->
                md.append(
                    String.format(
                        Locale.ROOT,
                        "| %s | %s | %s | %s | %s | %s |%n",
                        row.benchmark(),
                        row.paramText(),
                        row.mode(),
                        number(row.score()),
                        Double.isNaN(row.error()) ? "–" : number(row.error()),
                        row.unit())));
    return md.toString();
  }

  private void compare(
      List<Comparison> out,
      String label,
      String shortLabel,
      String benchmark,
      Map<String, String> baseline,
      Map<String, String> candidate) {
    find(benchmark, baseline)
        .ifPresent(
            base ->
                find(benchmark, candidate)
                    .ifPresent(cand -> out.add(new Comparison(label, shortLabel, base, cand))));
  }

  private Optional<Row> find(String benchmark, Map<String, String> where) {
    return rows.stream().filter(row -> row.is(benchmark, where)).findFirst();
  }

  private List<Row> select(String benchmark) {
    return rows.stream().filter(row -> row.benchmark().equals(benchmark)).toList();
  }

  /** A parameter's values, numbers in numeric order, the rest in order of appearance. */
  private List<String> values(String benchmark, String param) {
    List<String> values =
        select(benchmark).stream()
            .map(row -> row.param(param))
            .distinct()
            .collect(Collectors.toCollection(ArrayList::new));
    if (values.stream().allMatch(v -> v.matches("\\d+"))) {
      values.sort(Comparator.comparingLong(Long::parseLong));
    }
    return values;
  }

  private static String databaseName(String db) {
    return switch (db) {
      case "h2" -> "H2";
      case "postgres" -> "PostgreSQL";
      default -> db;
    };
  }

  static String times(double x) {
    return String.format(Locale.ROOT, x >= 10 ? "%.1f×" : "%.2f×", x);
  }

  private static String score(Row row) {
    return number(row.score()) + " " + row.unit();
  }

  static String number(double value) {
    double abs = Math.abs(value);
    if (abs >= 1000) {
      return String.format(Locale.ROOT, "%,.0f", value);
    }
    if (abs >= 10) {
      return String.format(Locale.ROOT, "%.1f", value);
    }
    return String.format(Locale.ROOT, "%.3f", value);
  }

  private static Map<String, String> orderedMap(String... keysAndValues) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put(keysAndValues[i], keysAndValues[i + 1]);
    }
    return Collections.unmodifiableMap(map);
  }
}
