/**
 * Claim-lease: several workers — threads, processes, service instances — share the items of one
 * store, each item worked on by one worker at a time, under a lease that a fencing token guards.
 *
 * <ul>
 *   <li>{@link dev.fanout.lease.ClaimLeaseRepository} is the SPI: claim, renew, mark started,
 *       complete, release, give back, fail, reclaim expired leases. {@link
 *       dev.fanout.lease.InMemoryClaimLeaseRepository} implements it in memory; {@code
 *       dev.fanout.jdbc.JdbcClaimLeaseRepository} (artifact {@code fanout-jdbc}) on PostgreSQL or
 *       H2.
 *   <li>{@link dev.fanout.lease.ClaimWorkers} runs a {@link dev.fanout.lease.ClaimHandler} on
 *       claimed items with heartbeat, reaper, retries and graceful stop, configured by {@link
 *       dev.fanout.lease.ClaimWorkersConfig}.
 * </ul>
 *
 * <h2>Meters</h2>
 *
 * Given a {@code MeterRegistry}, {@code ClaimWorkers} registers, tagged {@code name=<workers name>}:
 * the gauges {@code fanout.lease.workers.active} and {@code fanout.lease.claims.held}; the
 * counters {@code fanout.lease.items} with {@code event=claimed|completed|failed|retried|
 * lease_lost|reclaimed|given_back|abandoned} and {@code fanout.lease.store.errors}; and the timer {@code
 * fanout.lease.handler.duration} with {@code outcome=success|failure}. They are removed when the
 * workers stop. Without a registry nothing is measured.
 */
@NullMarked
package dev.fanout.lease;

import org.jspecify.annotations.NullMarked;
