/**
 * Typed fan-out / fan-in: run one task per key on a bounded {@link dev.fanout.WorkerPool},
 * receive every key's {@link dev.fanout.Result} exactly once through a
 * {@link dev.fanout.ResultChannel}, and summarise them in a {@link dev.fanout.FanOutReport}.
 */
@NullMarked
package dev.fanout;

import org.jspecify.annotations.NullMarked;
