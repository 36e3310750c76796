package dev.fanout;

import dev.fanout.internal.LoggingProgressListener;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * What a fan-out produced: every success and every failure by key, in completion order, with
 * counts, wall time and a one-line {@link #summary()} such as {@code 12 succeeded, 1 failed of
 * 13 in 2.1 s}.
 *
 * <p>{@code total} is how many results were expected. When a consumer closed its
 * {@link ResultChannel} early, or took some results itself before asking for the report, fewer
 * arrive: {@link #missing()} counts them.
 *
 * @param successes successes by key, in completion order (unmodifiable)
 * @param failures failures by key, in completion order (unmodifiable)
 * @param total results expected
 * @param elapsed wall time from the fan-out's start to its last result
 */
public record FanOutReport<K, V>(
    Map<K, Result.Success<K, V>> successes,
    Map<K, Result.Failure<K, V>> failures,
    int total,
    Duration elapsed) {

  /** Checks the arithmetic: no key twice, no more results than expected. */
  public FanOutReport {
    Objects.requireNonNull(successes, "successes");
    Objects.requireNonNull(failures, "failures");
    Objects.requireNonNull(elapsed, "elapsed");
    if (total < 0) {
      throw new IllegalArgumentException("total must not be negative, was " + total);
    }
    if (successes.size() + failures.size() > total) {
      throw new IllegalArgumentException(
          "more results (" + (successes.size() + failures.size()) + ") than total " + total);
    }
    Map<K, ?> fewer = successes.size() <= failures.size() ? successes : failures;
    Map<K, ?> more = fewer == successes ? failures : successes;
    for (K key : fewer.keySet()) {
      if (more.containsKey(key)) {
        throw new IllegalArgumentException("key " + key + " is both a success and a failure");
      }
    }
    successes = MappedView.readOnly(successes);
    failures = MappedView.readOnly(failures);
  }

  /**
   * Builds a report from results in the order they arrived.
   *
   * @throws IllegalArgumentException if a key appears twice or there are more than {@code total}
   */
  public static <K, V> FanOutReport<K, V> of(
      Collection<? extends Result<K, V>> results, int total, Duration elapsed) {
    Map<K, Result.Success<K, V>> successes = LinkedHashMap.newLinkedHashMap(results.size());
    Map<K, Result.Failure<K, V>> failures = new LinkedHashMap<>();
    for (Result<K, V> result : results) {
      boolean duplicate =
          switch (result) {
            case Result.Success<K, V> s -> successes.put(s.key(), s) != null;
            case Result.Failure<K, V> f -> failures.put(f.key(), f) != null;
          };
      if (duplicate) {
        throw new IllegalArgumentException("key " + result.key() + " has more than one result");
      }
    }
    return new FanOutReport<>(
        MappedView.owning(successes), MappedView.owning(failures), total, elapsed);
  }

  /**
   * A report over a fan-out's own bookkeeping, without copying it into maps: {@code
   * inCompletionOrder} holds each key's result once, as they arrived; {@code resultOf} finds a
   * key's result in one look-up (null for a key without one). Neither changes any more.
   */
  static <K, V> FanOutReport<K, V> indexed(
      List<Result<K, V>> inCompletionOrder,
      Function<Object, @Nullable Result<K, V>> resultOf,
      int total,
      Duration elapsed) {
    int succeeded = 0;
    for (Result<K, V> result : inCompletionOrder) {
      if (result instanceof Result.Success) {
        succeeded++;
      }
    }
    return new FanOutReport<>(
        new ResultsView<>(inCompletionOrder, resultOf, true, succeeded),
        new ResultsView<>(inCompletionOrder, resultOf, false, inCompletionOrder.size() - succeeded),
        total,
        elapsed);
  }

  /** How many keys succeeded. */
  public int succeeded() {
    return successes.size();
  }

  /** How many keys failed (cancelled and timed-out ones included). */
  public int failed() {
    return failures.size();
  }

  /** How many failures are cancellations. */
  public int cancelled() {
    return (int) failures.values().stream().filter(Result::isCancelled).count();
  }

  /** How many expected results did not arrive (the channel was closed or drained early). */
  public int missing() {
    return total - succeeded() - failed();
  }

  /** Whether every expected result arrived and all succeeded. */
  public boolean allSucceeded() {
    return succeeded() == total;
  }

  /**
   * The successful values by key, in completion order; a value may be null for void tasks. A
   * read-only view: nothing is copied, and {@code get} costs one look-up.
   */
  public Map<K, @Nullable V> values() {
    return new MappedView<>(successes, Result.Success::value);
  }

  /** The failures' errors by key, in completion order; a read-only view, like {@link #values()}. */
  public Map<K, Throwable> errors() {
    return new MappedView<>(failures, Result.Failure::error);
  }

  /** One line: {@code 12 succeeded, 1 failed of 13 in 2.1 s}. */
  public String summary() {
    return succeeded()
        + " succeeded, "
        + failed()
        + " failed of "
        + total
        + " in "
        + LoggingProgressListener.seconds(elapsed);
  }

  @Override
  public String toString() {
    return "FanOutReport[" + summary() + "]";
  }
  /**
   * A read-only map of {@code source} with each value passed through {@code mapping}. Every one
   * is made over a map that nobody changes any more (the report's own, or one built for it alone),
   * so the constructor keeps a view as it is instead of copying it again.
   */
  private static final class MappedView<K, S, T> extends AbstractMap<K, T> {
    private final Map<K, S> source;
    private final Function<? super S, ? extends T> mapping;

    MappedView(Map<K, S> source, Function<? super S, ? extends T> mapping) {
      this.source = source;
      this.mapping = mapping;
    }

    /** A view of {@code owned}, which the caller hands over and never changes again. */
    static <K, V> Map<K, V> owning(Map<K, V> owned) {
      return new MappedView<>(owned, Function.identity());
    }

    /** {@code map} if it is a view already, else a view of a copy of it. */
    static <K, V> Map<K, V> readOnly(Map<K, V> map) {
      return map instanceof MappedView || map instanceof ResultsView
          ? map
          : owning(new LinkedHashMap<>(map));
    }

    @Override
    public int size() {
      return source.size();
    }

    @Override
    public boolean containsKey(Object key) {
      return source.containsKey(key);
    }

    @Override
    public @Nullable T get(Object key) {
      S value = source.get(key);
      return value == null ? null : mapping.apply(value);
    }

    @Override
    public Set<Entry<K, T>> entrySet() {
      return new AbstractSet<>() {
        @Override
        public int size() {
          return source.size();
        }

        @Override
        public Iterator<Entry<K, T>> iterator() {
          Iterator<Entry<K, S>> entries = source.entrySet().iterator();
          return new Iterator<>() {
            @Override
            public boolean hasNext() {
              return entries.hasNext();
            }

            @Override
            public Entry<K, T> next() {
              Entry<K, S> entry = entries.next();
              return new SimpleImmutableEntry<>(entry.getKey(), mapping.apply(entry.getValue()));
            }
          };
        }
      };
    }
  }

  /**
   * The successes or the failures among a fan-out's results, read-only: iteration walks the
   * results in completion order, {@code get} asks the fan-out's own index.
   */
  private static final class ResultsView<K, R extends Result<K, ?>> extends AbstractMap<K, R> {
    private final List<? extends Result<K, ?>> inCompletionOrder;
    private final Function<Object, ? extends @Nullable Result<K, ?>> resultOf;
    private final boolean successes;
    private final int size;

    ResultsView(
        List<? extends Result<K, ?>> inCompletionOrder,
        Function<Object, ? extends @Nullable Result<K, ?>> resultOf,
        boolean successes,
        int size) {
      this.inCompletionOrder = inCompletionOrder;
      this.resultOf = resultOf;
      this.successes = successes;
      this.size = size;
    }

    private boolean isOurs(@Nullable Result<K, ?> result) {
      return result != null && result.isSuccess() == successes;
    }

    @Override
    public int size() {
      return size;
    }

    @Override
    public boolean containsKey(Object key) {
      return isOurs(resultOf.apply(key));
    }

    @Override
    @SuppressWarnings("unchecked")
    public @Nullable R get(Object key) {
      Result<K, ?> result = resultOf.apply(key);
      return isOurs(result) ? (R) result : null;
    }

    @Override
    public Set<Entry<K, R>> entrySet() {
      return new AbstractSet<>() {
        @Override
        public int size() {
          return size;
        }

        @Override
        public Iterator<Entry<K, R>> iterator() {
          return new Iterator<>() {
            private int position;
            private int left = size; // so that a walk stops at the last result of its kind

            @Override
            public boolean hasNext() {
              return left > 0;
            }

            @Override
            @SuppressWarnings("unchecked")
            public Entry<K, R> next() {
              if (!hasNext()) {
                throw new NoSuchElementException();
              }
              Result<K, ?> result = inCompletionOrder.get(position++);
              while (!isOurs(result)) {
                result = inCompletionOrder.get(position++);
              }
              left--;
              return new SimpleImmutableEntry<>(result.key(), (R) result);
            }
          };
        }
      };
    }
  }
}
