package dev.fanout.context;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.fanout.FanOutReport;
import dev.fanout.ParallelConfig;
import dev.fanout.WorkerPool;
import dev.fanout.retry.Backoff;
import dev.fanout.retry.RetryPolicy;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The submitter's MDC in every log line of every attempt, on the pool's virtual threads, with a
 * real logger (logback; this class runs in its own surefire execution, see core's pom).
 */
class ContextPropagationMdcLogTest {
  private static final org.slf4j.Logger log = LoggerFactory.getLogger("task");

  private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
  private Logger taskLogger;

  @BeforeEach
  void capture() {
    // Runs in the surefire execution whose SLF4J provider is logback; elsewhere (a -Dtest run
    // of the default execution, whose provider is the simple logger, without an MDC) it skips.
    assumeTrue(
        LoggerFactory.getILoggerFactory() instanceof LoggerContext,
        "needs logback as the SLF4J provider (-Dslf4j.provider)");
    taskLogger = (Logger) LoggerFactory.getLogger("task");
    lines.start();
    taskLogger.addAppender(lines);
  }

  @AfterEach
  void release() {
    if (taskLogger != null) {
      taskLogger.detachAppender(lines);
    }
    MDC.clear();
  }

  static WorkerPool pool(ContextPropagator propagator) {
    return WorkerPool.builder(ParallelConfig.builder().concurrency(8).build())
        .retryPolicy(
            RetryPolicy.builder().maxAttempts(3).backoff(Backoff.fixed(Duration.ofMillis(2))).build())
        .contextPropagator(propagator)
        .build();
  }

  @Test
  void everyLogLineOfEveryAttemptCarriesTheSubmittersMdc() throws InterruptedException {
    Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    List<String> keys = IntStream.range(0, 200).mapToObj(i -> "k" + i).toList();
    MDC.put("request", "r-42");
    MDC.put("tenant", "acme");

    FanOutReport<String, String> report;
    try (WorkerPool pool = WorkerPool.builder(ParallelConfig.builder().concurrency(8).build())
        .retryPolicy(
            RetryPolicy.builder().maxAttempts(3).backoff(Backoff.fixed(Duration.ofMillis(2))).build())
        .build()) { // the default propagator: the MDC
      report =
          pool.fanOutAndWait(
              keys,
              key -> {
                int attempt =
                    attempts.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
                log.info("{} attempt {} on a virtual thread: {}", key, attempt,
                    Thread.currentThread().isVirtual());
                MDC.put("request", "changed by the task"); // must not reach the next attempt
                if (attempt < 3 && Math.floorMod(key.hashCode(), 2) == 0) {
                  throw new IOException("try again");
                }
                return key;
              });
    }

    assertThat(report.succeeded()).isEqualTo(200);
    long retried = keys.stream().filter(k -> Math.floorMod(k.hashCode(), 2) == 0).count();
    assertThat(lines.list).hasSize((int) (200 + 2 * retried));
    assertThat(lines.list)
        .allSatisfy(
            line -> {
              assertThat(line.getFormattedMessage()).endsWith("virtual thread: true");
              assertThat(line.getMDCPropertyMap())
                  .isEqualTo(Map.of("request", "r-42", "tenant", "acme"));
            });
    assertThat(MDC.get("request")).as("the submitter's own MDC is untouched").isEqualTo("r-42");
  }

  @Test
  void afterTheAttemptTheWorkersThreadHasItsOwnMdcBack() throws InterruptedException {
    MDC.put("request", "r-1");
    try (WorkerPool pool = pool(ContextPropagator.none())) {
      pool.fanOutAndWait(List.of("a", "b"), key -> {
        log.info("{} without propagation", key);
        return key;
      });
    }
    assertThat(lines.list).hasSize(2).allSatisfy(line -> assertThat(line.getMDCPropertyMap()).isEmpty());
  }
}
