/**
 * Test support for users of fanout. {@link dev.fanout.testkit.FakeTime} (a {@code Ticker} and
 * {@code Sleeper}) and {@link dev.fanout.testkit.ManualClock} (a {@link java.time.Clock}) move only
 * when a test moves them, so tests of rate gates, retries and leases never sleep.
 *
 * <p>Conformance kits: abstract JUnit 5 test classes that an implementation of a fanout SPI extends
 * to prove it keeps the SPI's semantics. {@link dev.fanout.testkit.AbstractClaimLeaseRepositoryTest}
 * is the one for {@link dev.fanout.lease.ClaimLeaseRepository}.
 */
@NullMarked
package dev.fanout.testkit;

import org.jspecify.annotations.NullMarked;
