package dev.fanout.rate;

import java.time.Duration;
import java.util.Objects;

/** {@link RateGate#unlimited()}: never waits. */
enum UnlimitedGate implements RateGate {
  INSTANCE;

  @Override
  public void acquire() {}

  @Override
  public boolean tryAcquire(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout must not be null");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must not be negative, was " + timeout);
    }
    return true;
  }

  @Override
  public boolean tryAcquire() {
    return true;
  }

  @Override
  public String toString() {
    return "RateGate[unlimited]";
  }
}
