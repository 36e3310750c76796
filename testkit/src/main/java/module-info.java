/**
 * fanout testkit: conformance tests that every implementation of a fanout SPI runs.
 *
 * <p>{@link dev.fanout.testkit.AbstractClaimLeaseRepositoryTest} checks a {@code
 * ClaimLeaseRepository}.
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
