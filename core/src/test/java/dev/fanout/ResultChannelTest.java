package dev.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ResultChannelTest {

  private static Result<Integer, String> ok(int key) {
    return new Result.Success<>(key, "v" + key, 1, Duration.ZERO);
  }

  @Test
  void manyProducersOneConsumerEveryResultExactlyOnce() throws Exception {
    int producers = 8;
    int perProducer = 5_000;
    ResultChannel<Integer, String> channel = ResultChannel.create(producers * perProducer, 16);
    List<Thread> threads = new ArrayList<>();
    for (int p = 0; p < producers; p++) {
      int base = p * perProducer;
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    for (int i = 0; i < perProducer; i++) {
                      try {
                        assertThat(channel.send(ok(base + i))).isTrue();
                      } catch (InterruptedException e) {
                        throw new AssertionError(e);
                      }
                    }
                  }));
    }
    ConcurrentHashMap<Integer, Integer> seen = new ConcurrentHashMap<>();
    channel.stream().forEach(r -> seen.merge(r.key(), 1, Integer::sum));
    for (Thread t : threads) {
      t.join();
    }
    assertThat(seen).hasSize(producers * perProducer);
    assertThat(seen.values()).allMatch(count -> count == 1);
    assertThat(channel.isDone()).isTrue();
  }

  @Test
  void sendBlocksWhileFullAndResumesWhenTaken() throws Exception {
    ResultChannel<Integer, String> channel = ResultChannel.create(3, 1);
    channel.send(ok(1));
    AtomicInteger sent = new AtomicInteger(1);
    Thread producer =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    channel.send(ok(2));
                    sent.incrementAndGet();
                    channel.send(ok(3));
                    sent.incrementAndGet();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    await().until(() -> producer.getState() == Thread.State.WAITING);
    assertThat(sent.get()).isEqualTo(1);
    assertThat(channel.poll(Duration.ofSeconds(1))).isEqualTo(ok(1));
    assertThat(channel.poll(Duration.ofSeconds(1))).isEqualTo(ok(2));
    assertThat(channel.poll(Duration.ofSeconds(1))).isEqualTo(ok(3));
    producer.join();
    assertThat(sent.get()).isEqualTo(3);
    assertThat(channel.poll(Duration.ofSeconds(1))).isNull();
    assertThat(channel.isDone()).isTrue();
  }

  @Test
  void pollTimesOutWithNull() throws Exception {
    ResultChannel<Integer, String> channel = ResultChannel.create(1, 1);
    assertThat(channel.poll(Duration.ofMillis(10))).isNull();
    assertThat(channel.isDone()).isFalse();
  }

  @Test
  void moreResultsThanExpectedIsAnError() throws Exception {
    ResultChannel<Integer, String> channel = ResultChannel.create(1, 4);
    channel.send(ok(1));
    assertThatThrownBy(() -> channel.send(ok(2)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("channel expects 1 results, got one more for key 2");
  }

  @Test
  void closeEndsIterationRefusesSendsAndRunsTheHook() throws Exception {
    ResultChannel<Integer, String> channel = ResultChannel.create(10, 10);
    AtomicInteger hook = new AtomicInteger();
    channel.onClose(hook::incrementAndGet);
    channel.send(ok(1));
    channel.close();
    channel.close();
    assertThat(hook.get()).isEqualTo(1);
    assertThat(channel.send(ok(2))).isFalse();
    assertThat(channel.iterator().hasNext()).isFalse();
    assertThat(channel.isDone()).isTrue();
  }

  @Test
  void closeWakesABlockedProducer() throws Exception {
    ResultChannel<Integer, String> channel = ResultChannel.create(5, 1);
    channel.send(ok(1));
    AtomicInteger outcome = new AtomicInteger(-1);
    Thread producer =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    outcome.set(channel.send(ok(2)) ? 1 : 0);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    await().until(() -> producer.getState() == Thread.State.WAITING);
    channel.close();
    producer.join();
    assertThat(outcome.get()).isZero();
  }

  @Test
  void interruptedConsumerGetsCancellationAndKeepsItsInterruptStatus() {
    ResultChannel<Integer, String> channel = ResultChannel.create(1, 1);
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> channel.iterator().hasNext())
          .isInstanceOf(CancellationException.class);
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
  }

  @Test
  void awaitReportWithTimeoutReportsWhatArrived() throws Exception {
    ResultChannel<Integer, String> channel = ResultChannel.create(3, 3);
    channel.send(ok(1));
    channel.send(new Result.Failure<>(2, new IllegalStateException("x"), 2, Duration.ofMillis(5)));
    FanOutReport<Integer, String> report = channel.awaitReport(Duration.ofMillis(50));
    assertThat(report.succeeded()).isEqualTo(1);
    assertThat(report.failed()).isEqualTo(1);
    assertThat(report.missing()).isEqualTo(1);
    assertThat(report.summary()).startsWith("1 succeeded, 1 failed of 3 in ");
  }

  @Test
  void rejectsBadArguments() {
    assertThatThrownBy(() -> ResultChannel.create(-1, 1))
        .hasMessage("expected must not be negative, was -1");
    assertThatThrownBy(() -> ResultChannel.create(1, 0))
        .hasMessage("capacity must be at least 1, was 0");
    assertThatThrownBy(() -> ResultChannel.<Integer, String>create(1, 1).send(null))
        .hasMessage("result");
  }

  @Test
  void iterationOrderIsCompletionOrder() throws Exception {
    ResultChannel<Integer, String> channel = ResultChannel.create(4, 4);
    for (int key : new int[] {3, 1, 4, 2}) {
      channel.send(ok(key));
    }
    assertThat(channel.stream().map(Result::key).collect(Collectors.toList()))
        .containsExactly(3, 1, 4, 2);
  }
}
