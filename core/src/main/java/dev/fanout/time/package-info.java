/**
 * Time as a dependency: a {@link dev.fanout.time.Ticker} reads a monotonic clock and a
 * {@link dev.fanout.time.Sleeper} waits. Every time-dependent class of fanout (rate gates, retry
 * policies) takes both, so tests drive time by hand and never sleep for real.
 */
@NullMarked
package dev.fanout.time;

import org.jspecify.annotations.NullMarked;
