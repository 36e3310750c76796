/**
 * Rate gates: exact (on the times callers return), fair limits on how often work starts, lock-free
 * while nobody waits.
 * {@link dev.fanout.rate.RateGate} (spacing, token bucket, unlimited),
 * {@link dev.fanout.rate.AdaptiveRateGate} (follows the server's throttling) and
 * {@link dev.fanout.rate.KeyedRateGates} (one gate per key, e.g. per AWS account and region,
 * evicted when idle).
 */
@NullMarked
package dev.fanout.rate;

import org.jspecify.annotations.NullMarked;
