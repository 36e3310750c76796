package dev.fanout.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Gathering meeting recipients across customer accounts, scaled 100x: each customer's contact
 * list takes 20 ms to read (2 s unscaled), returns 40 addresses of which some are shared
 * with other customers, and the addresses are de-duplicated at the end. {@code sequential} reads
 * one customer after another; {@code fanout} reads them all at once on
 * a {@link dev.fanout.WorkerPool} of 30 workers (the recipient aggregator's default). The score
 * is the time of one whole gathering; the ideal parallel time is one call, 20 ms, so 30
 * customers can be at most 30x faster than sequential.
 *
 * <pre>
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java -jar benchmarks/target/benchmarks.jar CustomersBenchmark
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CustomersBenchmark {
  static final long CALL_MILLIS = 20;
  static final int WORKERS = 30;
  static final int ADDRESSES_PER_CUSTOMER = 40;

  @Param({"2", "5", "10", "30"})
  public int customers;

  @Param({"sequential", "fanout"})
  public String runner;

  private List<Integer> keys;
  private Peers.Runner running;

  @Setup(Level.Trial)
  public void setUp() {
    keys = IntStream.range(0, customers).boxed().toList();
    running = Peers.create(runner, WORKERS, Duration.ZERO, 3);
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    running.close();
  }

  /** The number of unique recipients, checked against the expected count. */
  @Benchmark
  public int gather() throws Exception {
    List<List<String>> perCustomer = running.run(keys, CustomersBenchmark::contacts);
    Set<String> unique = new HashSet<>();
    perCustomer.forEach(unique::addAll);
    int expected = uniqueAddresses(customers);
    if (unique.size() != expected) {
      throw new IllegalStateException(unique.size() + " unique recipients, expected " + expected);
    }
    return unique.size();
  }

  /**
   * One customer's opted-in contacts: 40 addresses, the first 10 shared with the next customer
   * (people who attend for two customers).
   */
  static List<String> contacts(int customer) throws InterruptedException {
    Peers.simulatedCall(CALL_MILLIS);
    List<String> addresses = new ArrayList<>(ADDRESSES_PER_CUSTOMER);
    int first = customer * (ADDRESSES_PER_CUSTOMER - 10);
    for (int i = 0; i < ADDRESSES_PER_CUSTOMER; i++) {
      addresses.add("person-" + (first + i) + "@example.com");
    }
    return addresses;
  }

  static int uniqueAddresses(int customers) {
    return customers * (ADDRESSES_PER_CUSTOMER - 10) + 10;
  }
}
