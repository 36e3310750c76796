package dev.fanout.time;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SystemTimeTest {
  @Test
  void sleepsAtLeastAsLongAsAsked() throws InterruptedException {
    Ticker ticker = Ticker.systemTicker();
    long start = ticker.read();
    Sleeper.systemSleeper().sleep(2_000_000);
    assertThat(ticker.read() - start).isGreaterThanOrEqualTo(2_000_000);
    Sleeper.systemSleeper().sleep(0);
    Sleeper.systemSleeper().sleep(-5);
  }

  @Test
  void answersAnInterruptEvenForZeroWaits() {
    Thread.currentThread().interrupt();
    assertThatThrownBy(() -> Sleeper.systemSleeper().sleep(0))
        .isInstanceOf(InterruptedException.class);
    assertThat(Thread.currentThread().isInterrupted()).isFalse();
    Thread.currentThread().interrupt();
    assertThatThrownBy(() -> Sleeper.systemSleeper().sleep(1_000_000_000L))
        .isInstanceOf(InterruptedException.class);
    assertThat(Thread.currentThread().isInterrupted()).isFalse();
  }
}
