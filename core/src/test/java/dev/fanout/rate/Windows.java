package dev.fanout.rate;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.Arrays;

/** Checks the exactness bound on a set of grant times. */
final class Windows {
  private Windows() {}

  /**
   * Asserts that for every window [t_i, t_j] spanned by two grants, the grants inside it number
   * at most {@code burst + rate * (t_j - t_i)}. Windows that start and end on grants are the
   * tightest, so this covers every window of any length.
   */
  static void assertWithinBound(long[] grantNanos, double permitsPerSecond, int burst) {
    long[] t = grantNanos.clone();
    Arrays.sort(t);
    BigDecimal rate = new BigDecimal(permitsPerSecond);
    BigDecimal billion = BigDecimal.valueOf(1_000_000_000L);
    for (int i = 0; i < t.length; i++) {
      for (int j = i + burst; j < t.length; j++) { // fewer than burst + 1 grants always fit
        long count = j - i + 1;
        long dt = t[j] - t[i];
        // count <= burst + rate * dt / 1e9  <=>  (count - burst) * 1e9 <= rate * dt
        double fast = permitsPerSecond * dt / 1e9 + burst - count;
        if (fast > 1e-6) {
          continue;
        }
        BigDecimal allowed = rate.multiply(BigDecimal.valueOf(dt));
        BigDecimal needed = BigDecimal.valueOf(count - burst).multiply(billion);
        assertThat(needed)
            .as(
                "%d grants in a window of %d ns (from grant %d to %d), rate %s/s, burst %d",
                count, dt, i, j, permitsPerSecond, burst)
            .isLessThanOrEqualTo(allowed);
      }
    }
  }

  /** As {@link #assertWithinBound}, for a rate of one permit per {@code intervalNanos}. */
  static void assertWithinBoundForInterval(long[] grantNanos, long intervalNanos, int burst) {
    long[] t = grantNanos.clone();
    Arrays.sort(t);
    for (int i = 0; i < t.length; i++) {
      for (int j = i + burst; j < t.length; j++) {
        long count = j - i + 1;
        long dt = t[j] - t[i];
        assertThat((count - burst) * intervalNanos)
            .as("%d grants in a window of %d ns, interval %d ns, burst %d", count, dt, intervalNanos, burst)
            .isLessThanOrEqualTo(dt);
      }
    }
  }
}
