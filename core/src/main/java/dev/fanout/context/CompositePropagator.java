package dev.fanout.context;

import java.util.List;
import org.jspecify.annotations.Nullable;

/** {@link ContextPropagator#of}: several propagators as one. */
final class CompositePropagator implements ContextPropagator {
  private final ContextPropagator[] parts;

  CompositePropagator(List<ContextPropagator> parts) {
    this.parts = parts.toArray(ContextPropagator[]::new);
  }

  @Override
  public Object capture() {
    @Nullable Object[] captured = new Object[parts.length];
    for (int i = 0; i < parts.length; i++) {
      captured[i] = parts[i].capture();
    }
    return captured;
  }

  @Override
  public Scope restore(@Nullable Object captured) {
    @Nullable Object[] each = captured == null ? new Object[parts.length] : (Object[]) captured;
    Scope[] scopes = new Scope[parts.length];
    int opened = 0;
    try {
      for (; opened < parts.length; opened++) {
        scopes[opened] = parts[opened].restore(each[opened]);
      }
    } catch (RuntimeException | Error e) {
      closeAll(scopes, opened);
      throw e;
    }
    return () -> closeAll(scopes, scopes.length);
  }

  private static void closeAll(Scope[] scopes, int count) {
    for (int i = count - 1; i >= 0; i--) {
      scopes[i].close();
    }
  }

  @Override
  public String toString() {
    return "ContextPropagator.of" + List.of(parts);
  }
}
