package dev.fanout.lease;

import static java.time.Duration.ZERO;
import static java.time.Duration.ofMillis;
import static java.time.Duration.ofSeconds;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;

/**
 * What the {@link ClaimWorkers} tests share: fast polling settings, workers started for the test
 * and stopped after it, and latches opened after it so that no handler is left blocked.
 */
abstract class ClaimWorkersFixture {
  private final List<ClaimWorkers<?>> toStop = new ArrayList<>();
  private final List<CountDownLatch> toOpen = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    toOpen.forEach(CountDownLatch::countDown);
    toStop.forEach(w -> w.stop(ofSeconds(5)));
  }

  static ClaimWorkersConfig.Builder fast() {
    return ClaimWorkersConfig.builder()
        .pollInterval(ofMillis(5))
        .maxPollInterval(ofMillis(20))
        .retryDelay(ZERO, ZERO)
        .shutdownTimeout(ofSeconds(10));
  }

  <T> ClaimWorkers<T> start(ClaimWorkers.Builder<T> builder) {
    ClaimWorkers<T> workers = builder.build();
    toStop.add(workers);
    workers.start();
    return workers;
  }

  CountDownLatch latch() {
    CountDownLatch latch = new CountDownLatch(1);
    toOpen.add(latch);
    return latch;
  }
}
