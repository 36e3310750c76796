package dev.fanout.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.Locale;

/**
 * A retry policy's meters, all tagged {@code name=<policy name>}:
 *
 * <ul>
 *   <li>{@code fanout.retry.calls} with {@code outcome=success|success_after_retry|not_retryable|
 *       attempts_exhausted|throttles_exhausted|elapsed_time_exceeded|budget_exhausted|interrupted},
 *   <li>{@code fanout.retry.retries} with {@code kind=failure|result|throttled}: retries made,
 *   <li>{@code fanout.retry.throttles}: attempts classified as throttled.
 * </ul>
 */
public final class RetryMeters {
  /** Outcome tag values, indexed by {@link #outcomeIndex}: success, success after retry, then reasons. */
  private final Counter[] calls;

  private final Counter retriedFailure;
  private final Counter retriedResult;
  private final Counter retriedThrottled;
  private final Counter throttles;

  /**
   * @param reasons the names of the failure reasons, in order (lower-cased for the tag)
   */
  public RetryMeters(MeterRegistry registry, String name, Enum<?>[] reasons) {
    Tags tags = Tags.of("name", name);
    calls = new Counter[2 + reasons.length];
    calls[0] = calls(registry, tags, "success");
    calls[1] = calls(registry, tags, "success_after_retry");
    for (int i = 0; i < reasons.length; i++) {
      calls[2 + i] = calls(registry, tags, reasons[i].name().toLowerCase(Locale.ROOT));
    }
    retriedFailure = retries(registry, tags, "failure");
    retriedResult = retries(registry, tags, "result");
    retriedThrottled = retries(registry, tags, "throttled");
    throttles =
        Counter.builder("fanout.retry.throttles")
            .description("Attempts that were throttled")
            .tags(tags)
            .register(registry);
  }

  private static Counter calls(MeterRegistry registry, Tags tags, String outcome) {
    return Counter.builder("fanout.retry.calls")
        .description("Calls made through a retry policy, by how they ended")
        .tags(tags.and("outcome", outcome))
        .register(registry);
  }

  private static Counter retries(MeterRegistry registry, Tags tags, String kind) {
    return Counter.builder("fanout.retry.retries")
        .description("Retries made, by what caused them")
        .tags(tags.and("kind", kind))
        .register(registry);
  }

  public void success(boolean afterRetry) {
    calls[afterRetry ? 1 : 0].increment();
  }

  public void failure(Enum<?> reason) {
    calls[2 + reason.ordinal()].increment();
  }

  public void throttled() {
    throttles.increment();
  }

  public void retry(boolean throttled, boolean onResult) {
    (throttled ? retriedThrottled : onResult ? retriedResult : retriedFailure).increment();
  }
}
