package dev.fanout.context;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Carries a thread's context — the SLF4J MDC, a trace span, a security principal — from the thread
 * that hands work over to the threads that run it. The engine {@linkplain #capture() captures} on
 * the thread that submits a task or starts a fan-out, and {@linkplain #restore restores} around
 * every attempt on the worker's thread (so also after a retry's wait), closing the returned scope
 * when the attempt ends, which puts back what the worker's thread had before.
 *
 * {@snippet :
 * MDC.put("request", requestId);
 * pool.fanOutAndWait(accounts, account -> {
 *   log.info("scanning"); // logged with request=<requestId>, on the worker's thread
 *   return scan(account);
 * });
 * }
 *
 * <p>{@link #mdc()} is on by default in every pool; {@link #none()} turns propagation off; {@link
 * #of} chains several (say the MDC and a tracing propagator). Implementations must be thread-safe
 * and cheap: capture runs once per submission, restore once per attempt. A propagator must not
 * throw; if {@code restore} does, the attempt fails with that exception.
 */
public interface ContextPropagator {

  /**
   * The current thread's context, to be restored elsewhere; {@code null} when there is none (the
   * engine then calls {@link #restore} with {@code null}).
   */
  @Nullable Object capture();

  /**
   * Makes {@code captured} the current thread's context until the returned scope is closed, which
   * puts back the context the thread had before.
   */
  Scope restore(@Nullable Object captured);

  /** What {@link #restore} set up, undone by {@link #close()}. */
  @FunctionalInterface
  interface Scope extends AutoCloseable {
    /** A scope that undoes nothing. */
    Scope NOTHING = () -> {};

    /** Puts back the context the thread had before {@link #restore}. Does not throw. */
    @Override
    void close();
  }

  /** Propagates nothing. */
  static ContextPropagator none() {
    return NoContext.INSTANCE;
  }

  /**
   * Propagates the SLF4J MDC: the submitter's map is the attempt's map, and the worker's own map
   * comes back afterwards. An empty MDC costs one map lookup per submission and nothing per attempt
   * on a thread whose MDC is empty too.
   */
  static ContextPropagator mdc() {
    return MdcPropagator.INSTANCE;
  }

  /** All of {@code propagators}, restored in this order and closed in the reverse order. */
  static ContextPropagator of(ContextPropagator... propagators) {
    Objects.requireNonNull(propagators, "propagators must not be null");
    List<ContextPropagator> all = List.of(propagators); // null elements are refused here
    return all.size() == 1 ? all.get(0) : new CompositePropagator(all);
  }
}
