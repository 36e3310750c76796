package dev.fanout.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RetryPolicyAbortOnTest {
  private static final RetryPolicy QUICK =
      RetryPolicy.builder()
          .maxAttempts(5)
          .backoff(Backoff.fixed(Duration.ofMillis(1)))
          .throttleBackoff(Backoff.fixed(Duration.ofMillis(1)))
          .build();

  static final class Final extends IOException {
    Final(String message) {
      super(message);
    }
  }

  @Test
  void anAbortingFailureEndsTheCallAtOnceEvenIfRetryOnAndThrottlingWouldRetryIt() {
    RetryPolicy policy =
        QUICK.toBuilder()
            .retryOn(e -> true) // would retry anything
            .throttledWhen(e -> true) // and call everything throttling
            .abortOn(e -> e instanceof Final)
            .build();
    AtomicInteger calls = new AtomicInteger();

    Outcome<String> outcome =
        policy.execute(
            () -> {
              if (calls.incrementAndGet() < 3) {
                throw new IOException("transient");
              }
              throw new Final("final");
            });

    assertThat(outcome).isInstanceOf(Outcome.Failure.class);
    Outcome.Failure<String> failure = (Outcome.Failure<String>) outcome;
    assertThat(failure.reason()).isEqualTo(Outcome.Reason.NOT_RETRYABLE);
    assertThat(failure.error()).isInstanceOf(Final.class);
    assertThat(failure.attempts()).isEqualTo(3);
    assertThat(calls).hasValue(3);
  }

  @Test
  void abortPredicatesAddUpAcrossToBuilder() throws Exception {
    RetryPolicy first = QUICK.toBuilder().abortOn(e -> e.getMessage().equals("a")).build();
    RetryPolicy both = first.toBuilder().abortOn(e -> e.getMessage().equals("b")).build();
    for (String message : new String[] {"a", "b"}) {
      AtomicInteger calls = new AtomicInteger();
      assertThatThrownBy(
              () ->
                  both.call(
                      () -> {
                        calls.incrementAndGet();
                        throw new IOException(message);
                      }))
          .hasMessage(message);
      assertThat(calls).as("'%s' aborts", message).hasValue(1);
    }
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(() -> both.call(() -> {
          calls.incrementAndGet();
          throw new IOException("c");
        }))
        .hasMessage("c");
    assertThat(calls).as("'c' is retried to the end").hasValue(5);
    assertThatThrownBy(() -> QUICK.toBuilder().abortOn(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("aborts");
  }
}
