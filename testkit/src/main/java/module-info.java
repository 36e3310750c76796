/**
 * fanout testkit: test support for users of fanout.
 *
 * <ul>
 *   <li>{@link dev.fanout.testkit.FakeTime}: a {@code Ticker} and {@code Sleeper} that move only
 *       when the test moves them, for rate gates, retry policies and worker pools.
 *   <li>{@link dev.fanout.testkit.ManualClock}: a {@link java.time.Clock} that stands still until
 *       advanced, for claim-lease repositories and workers.
 *   <li>{@link dev.fanout.testkit.AbstractClaimLeaseRepositoryTest}: the conformance kit that
 *       every {@code ClaimLeaseRepository} implementation extends.
 * </ul>
 */
module dev.fanout.testkit {
  requires transitive dev.fanout.core;
  requires transitive org.junit.jupiter.api;
  requires org.assertj.core;
  requires static org.jspecify;

  exports dev.fanout.testkit;

  opens dev.fanout.testkit to
      org.junit.platform.commons;
}
