package dev.fanout.benchmarks.report;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;
import org.openjdk.jmh.results.RunResult;

/**
 * One JMH result: benchmark ({@code Class.method}), its parameters, and the primary score.
 *
 * @param benchmark the benchmark class's simple name and the method, {@code CustomersBenchmark.gather}
 * @param params parameter values by name, in JMH's order
 * @param mode JMH's short mode name: {@code avgt}, {@code thrpt}
 * @param score the primary score
 * @param error the 99.9% confidence half-width; NaN with fewer than two iterations
 * @param unit the score's unit: {@code ms/op}, {@code ops/s}
 */
public record Row(
    String benchmark, Map<String, String> params, String mode, double score, double error, String unit) {

  public Row {
    Objects.requireNonNull(benchmark, "benchmark");
    params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(unit, "unit");
  }

  /** The row of one JMH run. */
  public static Row of(RunResult result) {
    var params = result.getParams();
    String full = params.getBenchmark();
    String[] parts = full.split("\\.");
    String benchmark = parts[parts.length - 2] + "." + parts[parts.length - 1];
    Map<String, String> values = new LinkedHashMap<>();
    for (String key : params.getParamsKeys()) {
      values.put(key, params.getParam(key));
    }
    var primary = result.getPrimaryResult();
    return new Row(
        benchmark,
        values,
        params.getMode().shortLabel(),
        primary.getScore(),
        primary.getScoreError(),
        primary.getScoreUnit());
  }

  /** Whether the benchmark is {@code benchmark} and every given parameter has the given value. */
  boolean is(String benchmark, Map<String, String> where) {
    return this.benchmark.equals(benchmark)
        && where.entrySet().stream().allMatch(e -> e.getValue().equals(params.get(e.getKey())));
  }

  /** A parameter's value, or "" when the benchmark has no such parameter. */
  String param(String name) {
    return params.getOrDefault(name, "");
  }

  /** Whether a higher score is better: a throughput rather than a time. */
  boolean higherIsBetter() {
    return unit.startsWith("ops/");
  }

  /** The parameters as {@code a=1 b=x}, sorted by name. */
  String paramText() {
    return params.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .map(e -> e.getKey() + "=" + e.getValue())
        .collect(Collectors.joining(" "));
  }
}
