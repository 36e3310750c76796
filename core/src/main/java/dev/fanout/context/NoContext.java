package dev.fanout.context;

import org.jspecify.annotations.Nullable;

/** {@link ContextPropagator#none()}. */
enum NoContext implements ContextPropagator {
  INSTANCE;

  @Override
  public @Nullable Object capture() {
    return null;
  }

  @Override
  public Scope restore(@Nullable Object captured) {
    return Scope.NOTHING;
  }

  @Override
  public String toString() {
    return "ContextPropagator.none()";
  }
}
