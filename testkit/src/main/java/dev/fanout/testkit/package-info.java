/**
 * Conformance kits: abstract JUnit 5 test classes that an implementation of a fanout SPI extends
 * to prove it keeps the SPI's semantics. {@link dev.fanout.testkit.AbstractClaimLeaseRepositoryTest}
 * is the one for {@link dev.fanout.lease.ClaimLeaseRepository}.
 */
@NullMarked
package dev.fanout.testkit;

import org.jspecify.annotations.NullMarked;
