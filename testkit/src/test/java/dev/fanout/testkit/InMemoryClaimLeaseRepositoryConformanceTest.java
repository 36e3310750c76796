package dev.fanout.testkit;

import dev.fanout.lease.ClaimLeaseRepository;
import dev.fanout.lease.InMemoryClaimLeaseRepository;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.IntStream;

/** The conformance kit on the in-memory repository, on a clock the test moves. */
class InMemoryClaimLeaseRepositoryConformanceTest extends AbstractClaimLeaseRepositoryTest<String> {
  private final ManualClock clock = ManualClock.at(Instant.parse("2025-11-20T17:07:36Z"));
  private InMemoryClaimLeaseRepository<String> repository;
  private int next;

  @Override
  protected ClaimLeaseRepository<String> createRepository() {
    repository = InMemoryClaimLeaseRepository.create(clock);
    return repository;
  }

  @Override
  protected List<String> addItems(int n) {
    List<String> items = IntStream.range(next, next + n).mapToObj(i -> "credential-" + i).toList();
    next += n;
    repository.addAll(items);
    return items;
  }

  @Override
  protected String unknownItem() {
    return "never-added";
  }

  @Override
  protected Instant now() {
    return clock.instant();
  }

  @Override
  protected void advance(Duration d) {
    clock.advance(d);
  }
}
