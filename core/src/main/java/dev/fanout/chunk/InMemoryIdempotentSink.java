package dev.fanout.chunk;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;

/**
 * An {@link IdempotentSink} in memory: an event is new when no event with its id was stored
 * before. Thread-safe; for tests, benchmarks and single-process pipelines.
 *
 * @param <E> the event type
 * @param <K> the id type
 */
public final class InMemoryIdempotentSink<E, K> implements IdempotentSink<E> {
  private final Function<? super E, ? extends K> idOf;
  private final ConcurrentHashMap<K, E> stored = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<E> writeOrder = new ConcurrentLinkedQueue<>();

  /** A sink that identifies events by {@code idOf}. */
  public InMemoryIdempotentSink(Function<? super E, ? extends K> idOf) {
    this.idOf = Objects.requireNonNull(idOf, "idOf");
  }

  @Override
  public int write(List<E> batch) {
    int inserted = 0;
    for (E event : batch) {
      K id = Objects.requireNonNull(idOf.apply(event), "id of an event");
      if (stored.putIfAbsent(id, event) == null) {
        writeOrder.add(event);
        inserted++;
      }
    }
    return inserted;
  }

  /** The stored events by id. */
  public Map<K, E> contents() {
    return Map.copyOf(stored);
  }

  /** How many events are stored. */
  public int size() {
    return stored.size();
  }

  /** The stored events in the order they were first written (across lanes, interleaved). */
  public List<E> writeOrder() {
    return new ArrayList<>(writeOrder);
  }
}
