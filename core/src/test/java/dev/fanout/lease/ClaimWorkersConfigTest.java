package dev.fanout.lease;

import static java.time.Duration.ZERO;
import static java.time.Duration.ofMillis;
import static java.time.Duration.ofMinutes;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.function.UnaryOperator;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class ClaimWorkersConfigTest {

  @Test
  void defaultsAreTheCredentialCheckersWithAMinuteLease() {
    ClaimWorkersConfig c = ClaimWorkersConfig.defaults();

    assertThat(c.concurrency()).isEqualTo(3);
    assertThat(c.batchSize()).isEqualTo(3);
    assertThat(c.pollInterval()).isEqualTo(ofSeconds(1));
    assertThat(c.maxPollInterval()).isEqualTo(ofSeconds(8));
    assertThat(c.leaseDuration()).isEqualTo(ofMinutes(1));
    assertThat(c.heartbeatInterval()).isEqualTo(ofSeconds(20));
    assertThat(c.reaperInterval()).isEqualTo(ofSeconds(30));
    assertThat(c.maxAttempts()).isEqualTo(3);
    assertThat(c.completionBatchSize()).isEqualTo(1);
    assertThat(c.batchesCompletions()).isFalse();
    assertThat(c.shutdownTimeout()).isEqualTo(ofSeconds(30));
  }

  @Test
  void derivedIntervalsFollowTheLeaseAndPollUnlessSet() {
    ClaimWorkersConfig c =
        ClaimWorkersConfig.builder()
            .leaseDuration(ofMinutes(10))
            .pollInterval(ofSeconds(10))
            .build();

    assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofSeconds(200));
    assertThat(c.reaperInterval()).isEqualTo(ofMinutes(5));
    assertThat(c.maxPollInterval()).isEqualTo(ofSeconds(30)); // 8 polls, at most 30 s

    ClaimWorkersConfig shorter = c.toBuilder().leaseDuration(ofSeconds(30)).build();
    assertThat(shorter.heartbeatInterval()).isEqualTo(ofSeconds(10));

    ClaimWorkersConfig explicit =
        c.toBuilder().heartbeatInterval(ofSeconds(7)).build().toBuilder()
            .leaseDuration(ofSeconds(60))
            .build();
    assertThat(explicit.heartbeatInterval()).isEqualTo(ofSeconds(7));
    assertThat(c.toBuilder().build()).isEqualTo(c);
  }

  @Test
  void badValuesAreRefusedNamingTheFieldAndTheValue() {
    refused(b -> b.concurrency(0), "concurrency must be between 1 and 10000, was 0");
    refused(b -> b.concurrency(10_001), "concurrency must be between 1 and 10000, was 10001");
    refused(b -> b.batchSize(-1), "batchSize must be between 1 and 10000, was -1");
    refused(b -> b.pollInterval(ZERO), "pollInterval must be positive, was PT0S");
    refused(
        b -> b.pollInterval(ofSeconds(2)).maxPollInterval(ofSeconds(1)),
        "maxPollInterval must not be less than pollInterval (PT2S), was PT1S");
    refused(b -> b.leaseDuration(ofSeconds(-1)), "leaseDuration must be positive, was PT-1S");
    refused(
        b -> b.leaseDuration(ofSeconds(30)).heartbeatInterval(ofSeconds(30)),
        "heartbeatInterval must be less than leaseDuration (PT30S), was PT30S");
    refused(b -> b.reaperInterval(ofSeconds(-5)), "reaperInterval must not be negative, was PT-5S");
    refused(b -> b.maxAttempts(0), "maxAttempts must be between 1 and 1000, was 0");
    refused(
        b -> b.retryDelay(ofSeconds(2), ofSeconds(1)),
        "maxRetryDelay must not be less than retryDelay (PT2S), was PT1S");
    refused(
        b -> b.retryDelay(ofSeconds(-1), ofSeconds(1)),
        "retryDelay must not be negative, was PT-1S");
    refused(
        b -> b.completionBatching(0, ofMillis(10)),
        "completionBatchSize must be between 1 and 10000, was 0");
    refused(
        b -> b.completionBatching(10, ofSeconds(20)),
        "completionFlushInterval must be at most a quarter of leaseDuration (PT1M), was PT20S");
    refused(
        b -> b.shutdownTimeout(ofSeconds(-1)), "shutdownTimeout must not be negative, was PT-1S");
    assertThatThrownBy(() -> ClaimWorkersConfig.builder().leaseDuration(null).build())
        .isInstanceOf(NullPointerException.class)
        .hasMessage("leaseDuration must not be null");
  }

  private static void refused(UnaryOperator<ClaimWorkersConfig.Builder> change, String message) {
    assertThatThrownBy(() -> change.apply(ClaimWorkersConfig.builder()).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(message);
  }

  @Test
  void retryDelayDoublesPerAttemptUpToItsCap() {
    ClaimWorkersConfig c =
        ClaimWorkersConfig.builder().retryDelay(ofSeconds(1), ofSeconds(10)).build();

    assertThat(c.retryDelayAfter(1)).isEqualTo(ofSeconds(1));
    assertThat(c.retryDelayAfter(2)).isEqualTo(ofSeconds(2));
    assertThat(c.retryDelayAfter(4)).isEqualTo(ofSeconds(8));
    assertThat(c.retryDelayAfter(5)).isEqualTo(ofSeconds(10));
    assertThat(c.retryDelayAfter(1000)).isEqualTo(ofSeconds(10));
    assertThat(ClaimWorkersConfig.builder().retryDelay(ZERO, ZERO).build().retryDelayAfter(3))
        .isZero();
  }

  @Property
  void retryDelayNeverShrinksAndNeverPassesItsCap(
      @ForAll @LongRange(min = 0, max = 60_000) long baseMillis,
      @ForAll @LongRange(min = 0, max = 3_600_000) long extraMillis,
      @ForAll @IntRange(min = 1, max = 1_000) int attempt) {
    Duration base = ofMillis(baseMillis);
    Duration cap = base.plusMillis(extraMillis);
    ClaimWorkersConfig c = ClaimWorkersConfig.builder().retryDelay(base, cap).build();

    Duration delay = c.retryDelayAfter(attempt);

    assertThat(delay).isBetween(base, cap);
    assertThat(c.retryDelayAfter(attempt + 1)).isGreaterThanOrEqualTo(delay);
  }
}
