package dev.fanout.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fanout.lease.InMemoryClaimLeaseRepository;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ManualClockTest {
  private static final Instant START = Instant.parse("2025-11-20T17:07:36Z");

  @Test
  void standsStillUntilAdvanced() {
    ManualClock clock = ManualClock.at(START);

    assertThat(clock.instant()).isEqualTo(START);
    assertThat(clock.millis()).isEqualTo(START.toEpochMilli());
    assertThat(clock.getZone()).isEqualTo(ZoneOffset.UTC);

    assertThat(clock.advance(Duration.ofSeconds(90))).isEqualTo(START.plusSeconds(90));
    assertThat(clock.instant()).isEqualTo(START.plusSeconds(90));
  }

  @Test
  void guideExampleLeaseEndsWithoutSleeping() {
    ManualClock clock = ManualClock.at(Instant.parse("2025-11-20T17:07:36Z"));
    InMemoryClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create(clock);
    repository.add("alice");
    repository.claim("worker-1", 10, Duration.ofSeconds(30));

    assertThat(repository.reclaimExpired()).isZero();
    clock.advance(Duration.ofSeconds(31)); // the lease has ended, and no test slept
    assertThat(repository.reclaimExpired()).isEqualTo(1);
  }

  @Test
  void withZoneSharesTheInstant() {
    ManualClock utc = ManualClock.at(START);
    ManualClock paris = utc.withZone(ZoneId.of("Europe/Paris"));

    utc.advance(Duration.ofMinutes(5));

    assertThat(paris.instant()).isEqualTo(START.plusSeconds(300));
    assertThat(paris.getZone()).isEqualTo(ZoneId.of("Europe/Paris"));
    assertThat(utc.withZone(ZoneOffset.UTC)).isSameAs(utc);
  }

  @Test
  void concurrentAdvancesAddUpExactly() throws Exception {
    ManualClock clock = ManualClock.at(START);
    int threads = 8;
    int advancesEach = 10_000;
    try (ExecutorService executor = Executors.newFixedThreadPool(threads)) {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        futures.add(executor.submit(() -> {
          for (int i = 0; i < advancesEach; i++) {
            clock.advance(Duration.ofMillis(1));
          }
        }));
      }
      for (Future<?> f : futures) {
        f.get(30, TimeUnit.SECONDS);
      }
    }
    assertThat(clock.instant()).isEqualTo(START.plusMillis((long) threads * advancesEach));
  }

  @Test
  void badArgumentsAreRejectedNamingTheParameter() {
    ManualClock clock = ManualClock.at(START);

    assertThatThrownBy(() -> clock.advance(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("duration")
        .hasMessageContaining("PT-1S");
    assertThat(clock.instant()).isEqualTo(START);
    assertThatThrownBy(() -> ManualClock.at(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("start");
    assertThatThrownBy(() -> ManualClock.at(START, null))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("zone");
  }
}
