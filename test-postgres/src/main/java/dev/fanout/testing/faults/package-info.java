/**
 * Network faults on demand for tests: a loopback TCP proxy that delays, stalls, resets,
 * blackholes, loses replies and restarts its listener (not published).
 */
@NullMarked
package dev.fanout.testing.faults;

import org.jspecify.annotations.NullMarked;
