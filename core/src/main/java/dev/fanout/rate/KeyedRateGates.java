package dev.fanout.rate;

import dev.fanout.internal.Names;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@link RateGate} per key, made on demand and evicted when idle: AWS throttles per account
 * and region (and service), so a scan over many accounts needs a gate for each, and a long-running
 * service may meet millions of keys over its life.
 *
 * {@snippet :
 * record ApiKey(String account, String region, String service) {}
 *
 * KeyedRateGates<ApiKey> gates =
 *     KeyedRateGates.create(key -> RateGate.perSecond(key.service().equals("eks") ? 10 : 5, 5));
 *
 * gates.acquire(new ApiKey(account, "eu-west-1", "eks"));
 * // or hand gates::gate to a worker pool as its key -> gate function
 * }
 *
 * <h2>Eviction and memory</h2>
 *
 * A gate is idle when its next free slot has passed and nobody waits for it: its bucket is full,
 * which is exactly the state of a new gate, so evicting it and making a new one later never lets
 * an extra permit through. An {@link AdaptiveRateGate} is also kept while its rate is below its
 * initial rate, so it does not forget throttling. Idle gates are swept on access, without a
 * background thread: when a new gate makes the map larger than a threshold, the map is scanned,
 * idle gates are evicted, and the threshold becomes twice what is left (at least
 * {@link Builder#sweepThreshold}). The cost is amortized O(1) per new gate, and the number of live
 * gates stays below {@code max(sweepThreshold, 2 * busy)}, where {@code busy} counts the keys whose
 * gates were not idle at the last sweep (for {@code spacing(100 ms)}: keys used in the last
 * 100 ms).
 *
 * <p>A {@link RateGate} returned by {@link #gate(Object)} may be kept: once evicted it sends its
 * callers on to the key's live gate, so two gates never run for one key at the same time.
 *
 * <p>The factory is called at most once per key and eviction (under the map's lock for that key,
 * so keep it cheap) and must return a new gate made by {@link RateGate#spacing},
 * {@link RateGate#perSecond}, {@link RateGate#builder()} or {@link AdaptiveRateGate#builder()}, or
 * {@link RateGate#unlimited()} (which is not stored). Thread-safe. With a {@link MeterRegistry}:
 * gauge {@code fanout.rate.keyed.gates} and counter {@code fanout.rate.keyed.evictions}, tagged
 * {@code name}.
 *
 * @param <K> the key type; keys are compared with {@code equals}
 */
public final class KeyedRateGates<K> {
  private static final Logger log = LoggerFactory.getLogger(KeyedRateGates.class);

  private final Function<? super K, ? extends RateGate> factory;
  private final ConcurrentHashMap<K, RateGate> gates = new ConcurrentHashMap<>();
  private final ReentrantLock sweepLock = new ReentrantLock();
  private final int minSweepThreshold;
  private volatile int sweepThreshold;
  private final AtomicLong evictions = new AtomicLong();
  private final String name;

  private KeyedRateGates(Builder<K> b) {
    this.factory = b.factory;
    this.minSweepThreshold = b.sweepThreshold;
    this.sweepThreshold = b.sweepThreshold;
    this.name = b.name;
    MeterRegistry registry = b.registry;
    if (registry != null) {
      Gauge.builder("fanout.rate.keyed.gates", gates, Map::size)
          .description("Live per-key rate gates")
          .tag("name", name)
          .register(registry);
      FunctionCounter.builder("fanout.rate.keyed.evictions", evictions, AtomicLong::get)
          .description("Idle per-key rate gates evicted")
          .tag("name", name)
          .register(registry);
    }
  }

  /** Gates made by {@code factory}, with the default sweep threshold and no meters. */
  public static <K> KeyedRateGates<K> create(Function<? super K, ? extends RateGate> factory) {
    return KeyedRateGates.<K>builder(factory).build();
  }

  /** A builder for gates made by {@code factory}. */
  public static <K> Builder<K> builder(Function<? super K, ? extends RateGate> factory) {
    return new Builder<>(factory);
  }

  /** The gate for {@code key}, made now if it has none. */
  public RateGate gate(K key) {
    Objects.requireNonNull(key, "key must not be null");
    RateGate gate = gates.get(key);
    if (gate != null && !coreOf(gate).isRetired()) {
      return gate;
    }
    return createOrReplace(key);
  }

  /** {@code gate(key).acquire()}. */
  public void acquire(K key) throws InterruptedException {
    gate(key).acquire();
  }

  /** {@code gate(key).tryAcquire(timeout)}. */
  public boolean tryAcquire(K key, Duration timeout) throws InterruptedException {
    return gate(key).tryAcquire(timeout);
  }

  /** How many gates are live now. */
  public int size() {
    return gates.size();
  }

  /** How many idle gates were evicted so far. */
  public long evictions() {
    return evictions.get();
  }

  /**
   * Evicts every idle gate now (this also happens by itself, see the class documentation).
   *
   * @return how many were evicted
   */
  public int evictIdle() {
    sweepLock.lock();
    try {
      return sweep();
    } finally {
      sweepLock.unlock();
    }
  }

  private RateGate createOrReplace(K key) {
    RateGate[] unstored = new RateGate[1];
    boolean[] created = new boolean[1];
    RateGate live =
        gates.compute(
            key,
            (k, old) -> {
              if (old != null && !coreOf(old).isRetired()) {
                return old;
              }
              RateGate fresh =
                  Objects.requireNonNull(factory.apply(k), "the gate factory returned null");
              if (fresh == UnlimitedGate.INSTANCE) {
                unstored[0] = fresh;
                return null;
              }
              coreOf(fresh).adopt(() -> gate(k), k);
              created[0] = true;
              return fresh;
            });
    if (live == null) {
      return Objects.requireNonNull(unstored[0]);
    }
    if (created[0] && gates.size() > sweepThreshold && sweepLock.tryLock()) {
      try {
        sweep();
      } finally {
        sweepLock.unlock();
      }
    }
    return live;
  }

  private int sweep() {
    int evicted = 0;
    for (Map.Entry<K, RateGate> e : gates.entrySet()) {
      RateGate gate = e.getValue();
      if (coreOf(gate).retireIfIdle()) {
        gates.remove(e.getKey(), gate);
        evicted++;
      }
    }
    evictions.addAndGet(evicted);
    int left = gates.size();
    sweepThreshold = (int) Math.max(minSweepThreshold, Math.min(Integer.MAX_VALUE, 2L * left));
    if (log.isDebugEnabled()) {
      log.debug("keyed gates '{}': evicted {} idle gates, {} left", name, evicted, left);
    }
    return evicted;
  }

  private static TokenBucketGate coreOf(RateGate gate) {
    TokenBucketGate core = TokenBucketGate.coreOf(gate);
    if (core != null) {
      return core;
    }
    throw new IllegalArgumentException(
        "KeyedRateGates manages gates made by RateGate.spacing, RateGate.perSecond, "
            + "RateGate.builder() or AdaptiveRateGate.builder(); the factory returned "
            + gate.getClass().getName());
  }

  @Override
  public String toString() {
    return "KeyedRateGates[name=" + name + ", gates=" + gates.size() + "]";
  }

  /** Builds {@link KeyedRateGates}. Not thread-safe. */
  public static final class Builder<K> {
    private final Function<? super K, ? extends RateGate> factory;
    private int sweepThreshold = 1024;
    private String name = "default";
    private @Nullable MeterRegistry registry;

    private Builder(Function<? super K, ? extends RateGate> factory) {
      this.factory = Objects.requireNonNull(factory, "factory must not be null");
    }

    /**
     * The least map size at which a new gate triggers a sweep for idle gates, at least 1; 1024
     * unless set.
     */
    public Builder<K> sweepThreshold(int sweepThreshold) {
      if (sweepThreshold < 1) {
        throw new IllegalArgumentException(
            "sweepThreshold must be at least 1, was " + sweepThreshold);
      }
      this.sweepThreshold = sweepThreshold;
      return this;
    }

    /** The name for the {@code name} meter tag; {@code default} unless set. */
    public Builder<K> name(String name) {
      Objects.requireNonNull(name, "name must not be null");
      this.name = Names.nonBlank(name);
      return this;
    }

    /** Publishes the meters listed in the class documentation to {@code registry}. */
    public Builder<K> meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry must not be null");
      return this;
    }

    /** Builds an empty set of gates. */
    public KeyedRateGates<K> build() {
      return new KeyedRateGates<>(this);
    }
  }
}
