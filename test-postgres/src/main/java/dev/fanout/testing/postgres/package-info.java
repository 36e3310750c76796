/** A throwaway PostgreSQL server on loopback for fanout's tests and benchmarks (not published). */
@NullMarked
package dev.fanout.testing.postgres;

import org.jspecify.annotations.NullMarked;
