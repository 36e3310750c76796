package dev.fanout.lease;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Returns expired leases — those of crashed workers anywhere — to the store's pool: at start and
 * then every {@link ClaimWorkersConfig#reaperInterval() reaperInterval} until {@code stop} opens,
 * spreading the returned items over {@link ClaimWorkersConfig#reclaimJitter() reclaimJitter}.
 */
final class Reaper<T> implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(ClaimWorkers.class);

  private final String name;
  private final ClaimLeaseRepository<T> repository;
  private final Tally<T> tally;
  private final Duration interval;
  private final Duration jitter;
  private final CountDownLatch stop;

  Reaper(
      String name,
      ClaimLeaseRepository<T> repository,
      Tally<T> tally,
      ClaimWorkersConfig config,
      CountDownLatch stop) {
    this.name = name;
    this.repository = repository;
    this.tally = tally;
    this.interval = config.reaperInterval();
    this.jitter = config.reclaimJitter();
    this.stop = stop;
  }

  @Override
  public void run() {
    do {
      try {
        int n = repository.reclaimExpired(jitter);
        if (n > 0) {
          tally.reclaimed(n);
          log.info("{}: reclaimed {} expired leases", name, n);
        }
      } catch (RuntimeException e) {
        tally.storeError();
        log.warn("{}: reclaiming expired leases failed: {}", name, e.toString());
      }
    } while (!Waits.await(stop, interval));
  }
}
