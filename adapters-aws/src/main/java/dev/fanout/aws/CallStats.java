package dev.fanout.aws;

/**
 * How many AWS calls a scan or an aggregation made, and what they cost on the wire.
 *
 * @param calls API calls made (one per page, per cluster described, per role assumed ...)
 * @param attempts HTTP requests sent for them, retries included; at least {@code calls} once
 *     every call has ended
 * @param throttles how many of the attempts were throttled
 */
public record CallStats(long calls, long attempts, long throttles) {

  /** Checks that no count is negative. */
  public CallStats {
    if (calls < 0 || attempts < 0 || throttles < 0) {
      throw new IllegalArgumentException(
          "counts must not be negative, were calls="
              + calls
              + ", attempts="
              + attempts
              + ", throttles="
              + throttles);
    }
  }

  /** Attempts beyond the first of each call: {@code attempts - calls}. */
  public long retries() {
    return Math.max(0, attempts - calls);
  }
}
