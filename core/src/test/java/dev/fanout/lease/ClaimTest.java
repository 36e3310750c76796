package dev.fanout.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class ClaimTest {
  private static final Instant T = Instant.parse("2025-11-20T17:07:36Z");

  @Test
  void refusesFieldsThatCannotBeAClaim() {
    assertThatThrownBy(() -> new Claim<>("x", "w", 0, T, T, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("token must be at least 1, was 0");
    assertThatThrownBy(() -> new Claim<>("x", "w", 1, T, T, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("attempt must be at least 1, was 0");
    assertThatThrownBy(() -> new Claim<>("x", "", 1, T, T, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("workerId must not be blank, was \"\"");
    assertThatThrownBy(() -> new Claim<>("x", "w", 1, T, T.minusNanos(1), 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("leaseUntil must not be before claimedAt");
    assertThatThrownBy(() -> new Claim<>(null, "w", 1, T, T, 1))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("item must not be null");
  }

  @Test
  void renewedClaimKeepsEverythingButTheLeaseEnd() {
    Claim<String> claim = new Claim<>("x", "w", 3, T, T.plusSeconds(60), 2);

    Claim<String> renewed = claim.withLeaseUntil(T.plusSeconds(120));

    assertThat(renewed).isEqualTo(new Claim<>("x", "w", 3, T, T.plusSeconds(120), 2));
  }

  @Test
  void leaseLostNamesItemTokenWorkerAndWhatHappened() {
    Claim<String> claim = new Claim<>("cred-7", "host-1-0", 3, T, T, 1);

    LeaseLostException e = new LeaseLostException(claim, "now claimed by host-2-1 with token 4");

    assertThat(e)
        .hasMessage(
            "lease lost on item cred-7 (token 3, worker host-1-0): now claimed by host-2-1 with"
                + " token 4");
    assertThat(e.claim()).isSameAs(claim);
    assertThat(e.getStackTrace()).isEmpty();
  }

  @Test
  void countsRefuseNegativesAndAddUp() {
    LeaseCounts counts = new LeaseCounts(1, 2, 3, 4);
    assertThat(counts.total()).isEqualTo(10);
    assertThat(counts.settled()).isFalse();
    assertThat(new LeaseCounts(0, 0, 3, 4).settled()).isTrue();
    assertThatThrownBy(() -> new LeaseCounts(-1, 0, 0, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
