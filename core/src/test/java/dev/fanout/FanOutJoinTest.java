package dev.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

class FanOutJoinTest {
  private static final ParallelConfig CONFIG = ParallelConfig.builder().concurrency(8).build();

  static FanOutOptions joining(FanOutJoin join) {
    return FanOutOptions.of(CONFIG).withJoin(join);
  }

  @Test
  void theFirstSuccessEndsTheFanOutAndTheRestIsCancelledAndInterrupted() throws Exception {
    CountDownLatch never = new CountDownLatch(1);
    AtomicInteger interrupted = new AtomicInteger();
    CountDownLatch failureDelivered = new CountDownLatch(1);
    CountDownLatch slowRunning = new CountDownLatch(1);
    FanOutReport<String, String> report;
    try (WorkerPool pool = WorkerPool.create(CONFIG)) {
      report =
          pool.fanOutAndWait(
              List.of("fails", "fast", "slow"),
              key ->
                  switch (key) {
                    case "fails" -> throw new IOException("no");
                    case "fast" -> {
                      // A failure delivered first does not end the fan-out.
                      failureDelivered.await(10, TimeUnit.SECONDS);
                      slowRunning.await(10, TimeUnit.SECONDS);
                      yield "answer";
                    }
                    default -> {
                      try {
                        slowRunning.countDown();
                        never.await();
                      } catch (InterruptedException e) {
                        interrupted.incrementAndGet();
                        throw e;
                      }
                      yield "never";
                    }
                  },
              joining(FanOutJoin.firstSuccess())
                  .withProgress(progress -> failureDelivered.countDown()));
    }
    assertThat(report.values()).containsExactly(java.util.Map.entry("fast", "answer"));
    assertThat(report.errors().get("fails")).isInstanceOf(IOException.class);
    assertThat(report.errors().get("slow"))
        .isInstanceOf(CancellationException.class)
        .hasMessageContaining("first success")
        .hasMessageContaining("fast");
    assertThat(report.total()).isEqualTo(3);
    assertThat(interrupted).as("the running key was interrupted").hasValue(1);
  }

  @Test
  void aQuorumEndsTheFanOutOnceThatManySucceeded() throws Exception {
    List<Integer> keys = IntStream.range(0, 6).boxed().toList();
    FanOutReport<Integer, Integer> report;
    try (WorkerPool pool = WorkerPool.create(CONFIG)) {
      report =
          pool.fanOutAndWait(
              keys,
              key -> {
                if (key >= 2) {
                  new CountDownLatch(1).await(); // only 0 and 1 ever answer
                }
                return key;
              },
              joining(FanOutJoin.quorum(2)));
    }
    assertThat(report.values()).containsOnlyKeys(0, 1);
    assertThat(report.cancelled()).isEqualTo(4);
  }

  @Test
  void aPredicateEndsTheFanOutAtTheResultItAccepts() throws Exception {
    FanOutReport<String, String> report;
    try (WorkerPool pool = WorkerPool.create(ParallelConfig.builder().concurrency(1).build())) {
      report =
          pool.fanOutAndWait(
              List.of("a", "b", "found", "c", "d"),
              key -> key,
              joining(FanOutJoin.until(r -> r instanceof Result.Success<?, ?> s && "found".equals(s.value()))));
    }
    // One worker runs the keys in order: everything after "found" is cancelled unrun.
    assertThat(report.values()).containsOnlyKeys("a", "b", "found");
    assertThat(report.cancelled()).isEqualTo(2);
  }

  @Test
  void aJoinThatThrowsEndsTheFanOut() throws Exception {
    FanOutReport<String, String> report;
    try (WorkerPool pool = WorkerPool.create(ParallelConfig.builder().concurrency(1).build())) {
      report =
          pool.fanOutAndWait(
              List.of("a", "b", "c"),
              key -> key,
              joining(
                  FanOutJoin.until(
                      r -> {
                        throw new IllegalStateException("bug in the predicate");
                      })));
    }
    assertThat(report.values()).containsOnlyKeys("a");
    assertThat(report.cancelled()).isEqualTo(2);
  }

  @RepeatedTest(20)
  void underContentionEveryKeyGetsOneResultAndAtLeastTheQuorumSucceeded() throws Exception {
    List<Integer> keys = IntStream.range(0, 500).boxed().toList();
    AtomicInteger ran = new AtomicInteger();
    FanOutReport<Integer, Integer> report;
    try (WorkerPool pool = WorkerPool.create(ParallelConfig.builder().concurrency(16).build())) {
      report =
          pool.fanOutAndWait(
              keys,
              key -> {
                ran.incrementAndGet();
                if (key % 3 == 0) {
                  throw new IOException("every third fails");
                }
                return key;
              },
              joining(FanOutJoin.quorum(50)));
    }
    assertThat(report.succeeded() + report.failed()).isEqualTo(500);
    assertThat(report.succeeded()).isGreaterThanOrEqualTo(50);
    assertThat(report.failed() - report.cancelled())
        .as("failures that ran are every third key among those that ran")
        .isLessThanOrEqualTo(ran.get());
    assertThat(ran.get()).isLessThanOrEqualTo(500);
  }

  @Test
  void badInputIsRefused() {
    assertThatThrownBy(() -> FanOutJoin.quorum(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("successes")
        .hasMessageContaining("0");
    assertThatThrownBy(() -> FanOutJoin.until(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> FanOutOptions.of(CONFIG).withJoin(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("join");
  }
}
