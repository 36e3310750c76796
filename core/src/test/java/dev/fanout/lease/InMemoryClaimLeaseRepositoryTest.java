package dev.fanout.lease;

import static java.time.Duration.ofMinutes;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What only the in-memory repository has; its SPI semantics are checked by the testkit. */
class InMemoryClaimLeaseRepositoryTest {

  @Test
  void addingAKnownItemChangesNothing() {
    InMemoryClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create();
    assertThat(repository.add("a")).isTrue();
    repository.complete(repository.claim("w", 1, ofMinutes(1)).get(0));

    assertThat(repository.add("a")).isFalse();
    assertThat(repository.addAll(List.of("a", "b", "b"))).isEqualTo(1);
    assertThat(repository.state("a")).contains(LeaseState.COMPLETED);
    assertThat(repository.state("b")).contains(LeaseState.PENDING);
    assertThat(repository.state("never")).isEmpty();
  }

  @Test
  void remembersWhyAnItemFailed() {
    InMemoryClaimLeaseRepository<String> repository = InMemoryClaimLeaseRepository.create();
    repository.add("a");
    repository.fail(repository.claim("w", 1, ofMinutes(1)).get(0), "wrong password");

    assertThat(repository.failureReason("a")).hasValue("wrong password");
    assertThat(repository)
        .hasToString(
            "InMemoryClaimLeaseRepositoryLeaseCounts[pending=0, claimed=0, completed=0, failed=1]");
  }
}
