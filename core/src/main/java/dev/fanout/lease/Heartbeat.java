package dev.fanout.lease;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renews the leases of every held claim in one {@link ClaimLeaseRepository#renewAll renewAll} per
 * {@link ClaimWorkersConfig#heartbeatInterval() heartbeatInterval}, until {@code stop} opens. A
 * refused renewal marks the claim lease lost and interrupts its running handler; a failing store is
 * counted and tried again on the next beat.
 */
final class Heartbeat<T> implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(ClaimWorkers.class);

  private final String name;
  private final ClaimLeaseRepository<T> repository;
  private final Tally<T> tally;
  private final Duration interval;
  private final Duration lease;
  private final CountDownLatch stop;

  Heartbeat(
      String name,
      ClaimLeaseRepository<T> repository,
      Tally<T> tally,
      ClaimWorkersConfig config,
      CountDownLatch stop) {
    this.name = name;
    this.repository = repository;
    this.tally = tally;
    this.interval = config.heartbeatInterval();
    this.lease = config.leaseDuration();
    this.stop = stop;
  }

  @Override
  public void run() {
    while (!Waits.await(stop, interval)) {
      beat();
    }
  }

  private void beat() {
    List<Held<T>> snapshot = tally.renewable();
    if (snapshot.isEmpty()) {
      return;
    }
    Map<Claim<T>, Held<T>> byClaim = new HashMap<>();
    List<Claim<T>> claims = new ArrayList<>(snapshot.size());
    for (Held<T> h : snapshot) {
      byClaim.put(h.claim, h);
      claims.add(h.claim);
    }
    try {
      BatchOutcome<T> outcome = repository.renewAll(claims, lease);
      for (Claim<T> lost : outcome.leaseLost()) {
        Held<T> h = byClaim.get(lost);
        // A claim we are settling ourselves — completed a moment ago, say — is refused because it
        // is ours and done, not because its lease was lost: say nothing. settling is set before
        // the settling call, so a refusal caused by that call always sees it.
        if (h != null && !h.settling && tally.holds(h)) {
          h.renewRefused = true;
          log.warn(
              "{}: renewal of the lease on item {} (token {}) was refused{}",
              lost.workerId(),
              lost.item(),
              lost.token(),
              h.leaseLost() ? "; its handler was interrupted" : "");
        }
      }
    } catch (RuntimeException e) {
      tally.storeError();
      log.warn("{}: renewing {} leases failed: {}", name, claims.size(), e.toString());
    }
  }
}
