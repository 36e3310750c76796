/**
 * Bulkheads: a bound on how many calls run at once, so one slow dependency cannot take every
 * thread. {@link dev.fanout.bulkhead.Bulkhead} (fair FIFO, an optional bounded wait,
 * interruptible) and {@link dev.fanout.bulkhead.BulkheadFullException} for the calls it refuses.
 *
 * {@snippet :
 * Bulkhead bulkhead = Bulkhead.builder()
 *     .name("ses")
 *     .maxConcurrent(8)                     // at most 8 calls inside at once
 *     .maxWait(Duration.ofMillis(500))      // wait up to 500 ms for a permit, in arrival order
 *     .meterRegistry(registry)              // fanout.bulkhead.available, tag name=ses
 *     .build();
 *
 * List<String> contacts = bulkhead.call(() -> ses.listContacts(customer));
 * // throws BulkheadFullException when no permit came within 500 ms
 * }
 */
@NullMarked
package dev.fanout.bulkhead;

import org.jspecify.annotations.NullMarked;
