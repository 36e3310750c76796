package dev.fanout.rate;

import dev.fanout.internal.Names;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
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
 * background thread: a new key takes one of a fixed number of places (the threshold), and when
 * none is free the map is scanned, idle gates are evicted, and the threshold becomes twice what is
 * left (at least {@link Builder#sweepThreshold}). A new key waits for a running scan rather than
 * slip in beside it, so the number of live gates never exceeds {@code max(sweepThreshold,
 * 2 * busy)}, however many threads create gates at once, where {@code busy} counts the keys whose
 * gates were not idle at the last scan (for {@code spacing(100 ms)}: keys used in the last
 * 100 ms). The cost is amortized O(1) per new gate. Once a burst of keys has passed, a threshold
 * raised by it comes down again at a later scan: while the threshold is above its least value,
 * one in about {@code max(}{@value #SWEEP_ODDS}{@code , live gates)} look-ups of existing keys
 * scans too (still amortized O(1)), so a map that is still in use shrinks back without new keys;
 * {@link #evictIdle()} shrinks it at once.
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

  /** While the threshold is raised, one in at least this many look-ups also scans. */
  static final int SWEEP_ODDS = 256;

  private static final long CLOSED = 1L << 40;

  private final Function<? super K, ? extends RateGate> factory;
  private final ConcurrentHashMap<K, RateGate> gates = new ConcurrentHashMap<>();
  /**
   * Places taken (entries in the map plus new keys about to be stored; never above the threshold),
   * and the {@link #CLOSED} bit while a scan runs: no new key takes a place during a scan, so the
   * scan sees every gate it counts as busy.
   */
  private final AtomicLong places = new AtomicLong();
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
      if (sweepThreshold > minSweepThreshold
          && ThreadLocalRandom.current().nextInt(Math.max(SWEEP_ODDS, size())) == 0
          && sweepLock.tryLock()) {
        try {
          sweep();
        } finally {
          sweepLock.unlock();
        }
      }
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
    boolean reserved = false;
    while (true) {
      boolean hasPlace = reserved;
      RateGate[] unstored = new RateGate[1];
      boolean[] placeUsed = new boolean[1];
      boolean[] placeFreed = new boolean[1];
      RateGate live;
      try {
        live =
            gates.compute(
                key,
                (k, old) -> {
                  if (old != null && !coreOf(old).isRetired()) {
                    return old;
                  }
                  if (old == null && !hasPlace) {
                    return null; // a new key needs a place first, taken outside the map's lock
                  }
                  RateGate fresh =
                      Objects.requireNonNull(factory.apply(k), "the gate factory returned null");
                  if (fresh == UnlimitedGate.INSTANCE) {
                    unstored[0] = fresh;
                    placeFreed[0] = old != null;
                    return null;
                  }
                  coreOf(fresh).adopt(() -> gate(k), k);
                  placeUsed[0] = old == null; // a retired gate's successor keeps its place
                  return fresh;
                });
      } finally {
        if (placeFreed[0]) {
          places.decrementAndGet(); // leaves the CLOSED bit as it is
        }
      }
      if (live != null || unstored[0] != null) {
        if (reserved && !placeUsed[0]) {
          places.decrementAndGet();
        }
        return live != null ? live : unstored[0];
      }
      reserve();
      reserved = true;
    }
  }

  /** Takes a place for a new key, scanning for idle gates (or waiting for a scan) if none is free. */
  private void reserve() {
    while (true) {
      long word = places.get();
      int threshold = sweepThreshold; // read after the word: a scan sets it before it reopens
      if ((word & CLOSED) == 0 && word < threshold) {
        if (places.compareAndSet(word, word + 1)) {
          return;
        }
        continue;
      }
      sweepLock.lock(); // waits for a running scan
      try {
        long now = places.get();
        if ((now & CLOSED) == 0 && now >= sweepThreshold) {
          sweep();
        }
      } finally {
        sweepLock.unlock();
      }
    }
  }

  /** Scans for idle gates; only under {@link #sweepLock}. */
  private int sweep() {
    places.getAndAdd(CLOSED);
    int evicted = 0;
    long kept = 0;
    try {
      for (Map.Entry<K, RateGate> e : gates.entrySet()) {
        RateGate gate = e.getValue();
        if (coreOf(gate).retireIfIdle()) {
          if (gates.remove(e.getKey(), gate)) {
            places.decrementAndGet();
            evicted++;
          }
        } else {
          kept++;
        }
      }
    } finally {
      long left = places.get() - CLOSED;
      sweepThreshold = (int) Math.max(minSweepThreshold, Math.min(Integer.MAX_VALUE, 2 * Math.max(kept, left)));
      places.getAndAdd(-CLOSED);
    }
    evictions.addAndGet(evicted);
    if (log.isDebugEnabled()) {
      log.debug("keyed gates '{}': evicted {} idle gates, {} kept", name, evicted, kept);
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
