package dev.fanout.time;

/**
 * A monotonic source of nanoseconds, like {@link System#nanoTime()} and Caffeine's {@code Ticker}:
 * only differences between two readings mean anything. Rate gates and retry policies read time
 * through a ticker so that tests can move time by hand.
 *
 * {@snippet :
 * RateGate gate = RateGate.builder().perSecond(10, 1).ticker(fakeTime).sleeper(fakeTime).build();
 * }
 *
 * <p>Implementations must be thread-safe and must never go backwards.
 */
@FunctionalInterface
public interface Ticker {

  /** Nanoseconds since an arbitrary, fixed origin. */
  long read();

  /** The ticker of {@link System#nanoTime()}. */
  static Ticker systemTicker() {
    return SystemTime.INSTANCE;
  }
}
