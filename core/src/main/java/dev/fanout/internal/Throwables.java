package dev.fanout.internal;

import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/** Small helpers for errors that cross API boundaries unchanged. */
public final class Throwables {
  /** How deep cause chains are searched: enough for wrappers, safe against cycles. */
  private static final int MAX_DEPTH = 8;

  private Throwables() {}

  /**
   * Throws {@code t} as it is, checked or not, without wrapping. For code whose signature
   * already declares {@code throws Exception} and that must rethrow an {@link Error} or a
   * caught {@link Throwable} unchanged.
   */
  public static RuntimeException sneakyThrow(Throwable t) {
    throw Throwables.<RuntimeException>uncheckedThrow(t);
  }

  @SuppressWarnings("unchecked")
  private static <E extends Throwable> E uncheckedThrow(Throwable t) throws E {
    throw (E) t;
  }

  /** The first of {@code t} and its causes (at most {@value #MAX_DEPTH} deep) of type {@code type}. */
  public static <T> @Nullable T findInChain(Throwable t, Class<T> type) {
    Throwable current = t;
    for (int depth = 0; current != null && depth < MAX_DEPTH; depth++) {
      if (type.isInstance(current)) {
        return type.cast(current);
      }
      current = current.getCause();
    }
    return null;
  }

  /** Whether {@code t} or one of its causes (at most {@value #MAX_DEPTH} deep) matches. */
  public static boolean anyInChain(Throwable t, Predicate<? super Throwable> predicate) {
    Throwable current = t;
    for (int depth = 0; current != null && depth < MAX_DEPTH; depth++) {
      if (predicate.test(current)) {
        return true;
      }
      current = current.getCause();
    }
    return false;
  }
}
