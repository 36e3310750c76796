package dev.fanout.internal;

import java.math.BigDecimal;
import java.time.Duration;

/** Short human forms of durations for log lines: {@code 1s}, {@code 250ms}, {@code 1.5s}, {@code 2m5s}. */
public final class Durations {
  private Durations() {}

  /** {@code 0s}, {@code 750ns}, {@code 12µs}, {@code 250ms}, {@code 1.5s}, {@code 2m5s}, {@code 1h2m}. */
  public static String format(Duration d) {
    if (d.isNegative()) {
      return "-" + format(d.negated());
    }
    long nanos = d.getSeconds() < 60 ? d.toNanos() : -1;
    if (nanos == 0) {
      return "0s";
    }
    if (nanos > 0 && nanos < 1_000) {
      return nanos + "ns";
    }
    if (nanos > 0 && nanos < 1_000_000) {
      return trim(BigDecimal.valueOf(nanos, 3)) + "µs";
    }
    if (nanos > 0 && nanos < 1_000_000_000) {
      return trim(BigDecimal.valueOf(nanos / 1_000, 3)) + "ms";
    }
    if (nanos > 0) {
      return trim(BigDecimal.valueOf(nanos / 1_000_000, 3)) + "s";
    }
    long seconds = d.getSeconds();
    long hours = seconds / 3600;
    long minutes = (seconds % 3600) / 60;
    long secs = seconds % 60;
    StringBuilder sb = new StringBuilder();
    if (hours > 0) {
      sb.append(hours).append('h');
    }
    if (minutes > 0) {
      sb.append(minutes).append('m');
    }
    if (secs > 0 && hours == 0) {
      sb.append(secs).append('s');
    }
    return sb.toString();
  }

  private static String trim(BigDecimal value) {
    BigDecimal stripped = value.stripTrailingZeros();
    return stripped.scale() < 0 ? stripped.setScale(0).toPlainString() : stripped.toPlainString();
  }
}
