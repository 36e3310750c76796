package dev.fanout.examples;

import dev.fanout.FanOutReport;
import dev.fanout.ParallelConfig;
import dev.fanout.ProgressListener;
import dev.fanout.Result;
import dev.fanout.WorkerPool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;

/**
 * The recipient-gathering scenario on simulated customers: each customer takes {@code latency}
 * to answer with its subscribed recipients (some shared with other customers, in other letter
 * cases), one customer fails. The same work runs sequentially (one customer after another), and
 * then fanned out on a {@link WorkerPool}; both timings and the summary lines are printed.
 *
 * <p>Arguments (all optional): {@code customers=30 latencyMs=200}.
 */
public final class CustomersExample {
  private CustomersExample() {}

  public static void main(String[] args) throws Exception {
    int customers = ExampleArgs.number(args, "customers", 30);
    Duration latency = Duration.ofMillis(ExampleArgs.number(args, "latencyMs", 200));
    List<String> codes = IntStream.rangeClosed(1, customers).mapToObj(i -> "cust-%02d".formatted(i)).toList();
    String failing = codes.get(codes.size() / 2);

    System.out.printf(
        "Gathering recipients of topic 'maintenance' from %d customers (%d ms each)%n",
        customers, latency.toMillis());

    long start = System.nanoTime();
    List<Result<String, List<String>>> sequential = new ArrayList<>();
    for (String code : codes) {
      long t0 = System.nanoTime();
      try {
        sequential.add(
            new Result.Success<>(code, recipients(code, failing, latency), 1, since(t0)));
      } catch (Exception e) {
        sequential.add(new Result.Failure<>(code, e, 1, since(t0)));
      }
    }
    FanOutReport<String, List<String>> sequentialReport =
        FanOutReport.of(sequential, customers, since(start));
    System.out.println("sequential: " + sequentialReport.summary());

    ParallelConfig config =
        ParallelConfig.defaults().toBuilder()
            .concurrency(customers)
            .rateSpacing(Duration.ZERO)
            .maxAttempts(1) // an access-denied customer does not get better by asking again
            .build();
    FanOutReport<String, List<String>> parallelReport;
    try (WorkerPool pool = WorkerPool.builder(config).name("customers").build()) {
      parallelReport =
          pool.fanOutAndWait(
              codes,
              code -> recipients(code, failing, latency),
              ProgressListener.logging(Duration.ofMillis(100)));
    }
    System.out.println("parallel:   " + parallelReport.summary());
    parallelReport.errors().forEach((code, error) -> System.out.println("  " + code + ": " + error.getMessage()));

    Set<String> unique = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    parallelReport.values().values().forEach(unique::addAll);
    System.out.printf(
        "Aggregation complete: %d unique recipients from %d customers (%d successful, %d errors)%n",
        unique.size(), customers, parallelReport.succeeded(), parallelReport.failed());
    double speedUp =
        (double) sequentialReport.elapsed().toNanos() / Math.max(1, parallelReport.elapsed().toNanos());
    System.out.printf(
        Locale.ROOT,
        "sequential %.2f s, parallel %.2f s: %.1fx faster%n",
        sequentialReport.elapsed().toNanos() / 1e9,
        parallelReport.elapsed().toNanos() / 1e9,
        speedUp);
  }

  /** A customer's recipients after a simulated call; recipients overlap across customers. */
  static List<String> recipients(String code, String failing, Duration latency) throws Exception {
    Thread.sleep(latency);
    if (code.equals(failing)) {
      throw new IllegalStateException("AccessDenied: cannot assume role of " + code);
    }
    int n = Integer.parseInt(code.substring(code.indexOf('-') + 1));
    List<String> emails = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      String email = "user" + ((n * 3 + i) % 40) + "@example.com";
      emails.add(i % 2 == 0 ? email : email.toUpperCase(Locale.ROOT));
    }
    return emails;
  }

  private static Duration since(long startNanos) {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }
}
