/**
 * Context propagation: the thread context (MDC, trace, principal) of the code that hands work to
 * the engine, restored around every attempt on the thread that runs it; see {@link
 * dev.fanout.context.ContextPropagator}.
 */
@NullMarked
package dev.fanout.context;

import org.jspecify.annotations.NullMarked;
