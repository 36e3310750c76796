package dev.fanout.lease;

import dev.fanout.retry.Backoff;
import dev.fanout.retry.Jitter;
import dev.fanout.retry.Outcome;
import dev.fanout.retry.RetryListener;
import dev.fanout.retry.RetryPolicy;
import dev.fanout.time.Sleeper;
import dev.fanout.time.Ticker;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Store calls that must not be lost to a passing failure — the fenced calls that start or end a
 * held claim, and the flusher's batched completions — run under one {@link RetryPolicy}: a
 * {@linkplain LeaseStoreException#isTransient() transient} failure is tried again after an
 * exponential wait from {@link ClaimWorkersConfig#pollInterval()} up to {@link
 * ClaimWorkersConfig#maxPollInterval()} with {@link Jitter#EQUAL equal jitter} (each wait between
 * half the doubled interval and all of it), for at most one lease, or until the stop deadline:
 * after that the lease has ended anyway and the reaper returns the item (the flusher's batches are
 * given their lease also while stopping). Lease lost, a claim the
 * store does not know, and a failure no retry can fix end the call at once. Every failed try
 * counts as a store error; each retry and the giving up are logged at WARN.
 */
final class StoreCalls<T> {
  private static final Logger log = LoggerFactory.getLogger(ClaimWorkers.class);

  /** What one store call came to, after retries. */
  enum Result {
    APPLIED,
    LEASE_LOST,
    REFUSED,
    GAVE_UP
  }

  /** What a batched call came to: its value, or null if it never got an answer. */
  record Answer<V>(Result result, @Nullable V value) {}

  private final Tally<T> tally;
  private final Ticker ticker;
  private final RetryPolicy withinLease;
  private final long leaseNanos;
  private final LongSupplier stopDeadline;

  StoreCalls(
      String name,
      ClaimWorkersConfig config,
      Tally<T> tally,
      Ticker ticker,
      Sleeper sleeper,
      Supplier<? extends RandomGenerator> random,
      LongSupplier stopDeadline) {
    this.tally = tally;
    this.ticker = ticker;
    this.leaseNanos = config.leaseDuration().toNanos();
    this.stopDeadline = stopDeadline;
    this.withinLease =
        RetryPolicy.builder()
            .name(name + "-store")
            .maxAttempts(RetryPolicy.MAX_ATTEMPTS)
            .backoff(
                Backoff.exponential(config.pollInterval(), 2.0, config.maxPollInterval())
                    .withJitter(Jitter.EQUAL))
            .maxElapsedTime(config.leaseDuration())
            .retryOn(StoreCalls::retryable)
            .throttledWhen(e -> false)
            .retryAfter(e -> Optional.empty())
            .ticker(ticker)
            .sleeper(sleeper)
            .random(random)
            .build();
  }

  /** The policy for a call starting now: one lease, or less if stopping ends sooner. */
  RetryPolicy policy() {
    long deadline = stopDeadline.getAsLong();
    if (deadline == Long.MAX_VALUE) {
      return withinLease;
    }
    long left = deadline - ticker.read();
    if (left >= leaseNanos) {
      return withinLease;
    }
    // Stopping: the first try is still made, a failure is not retried past the deadline.
    return withinLease.toBuilder().maxElapsedTime(Duration.ofNanos(Math.max(left, 1))).build();
  }

  /**
   * Runs one fenced call on a held claim. {@code settling} marks the claim as being ended by us,
   * first, so that a renewal refused meanwhile is not taken for a lost lease.
   */
  Result call(Held<T> h, String what, Consumer<Claim<T>> call, boolean settling) {
    if (settling) {
      h.settling = true;
    }
    Claim<T> claim = h.claim;
    RetryListener onRetry =
        e -> {
          tally.storeError();
          log.warn(
              "{}: could not {} item {} ({} in a row), trying again in {} ms: {}",
              claim.workerId(),
              what,
              claim.item(),
              e.attempt(),
              e.delay().toMillis(),
              String.valueOf(e.error()));
        };
    Outcome<Object> outcome =
        policy()
            .execute(
                () -> {
                  call.accept(claim);
                  return null;
                },
                onRetry);
    return switch (outcome) {
      case Outcome.Success<Object> s -> Result.APPLIED;
      case Outcome.Failure<Object> f -> failed(f, claim.workerId(), what, "item " + claim.item(), claim);
    };
  }

  /**
   * Runs a batched call (the flusher's {@code completeAll}) with the same retries for one lease —
   * also while stopping, since the claims stay held and renewed until it ends; {@code what} says
   * what it does, e.g. "complete 12 items".
   */
  <V> Answer<V> batch(String name, String what, Callable<V> call) {
    RetryListener onRetry =
        e -> {
          tally.storeError();
          log.warn(
              "{}: could not {} ({} in a row), trying again in {} ms: {}",
              name,
              what,
              e.attempt(),
              e.delay().toMillis(),
              String.valueOf(e.error()));
        };
    Outcome<V> outcome = withinLease.execute(call, onRetry);
    return switch (outcome) {
      case Outcome.Success<V> s -> new Answer<>(Result.APPLIED, s.value());
      case Outcome.Failure<V> f -> new Answer<>(failed(f, name, what, null, null), null);
    };
  }

  private Result failed(
      Outcome.Failure<?> f, String who, String what, @Nullable String subject, @Nullable Claim<T> claim) {
    Throwable e = f.error();
    String target = subject == null ? what : what + " " + subject;
    if (e instanceof LeaseLostException lost && claim != null) {
      claim.markLeaseLost(lost.getMessage());
      log.warn("{}: could not {}: {}", who, what, lost.getMessage());
      return Result.LEASE_LOST;
    }
    if (e instanceof IllegalArgumentException && claim != null) {
      // Not a store failure: retrying cannot help.
      log.error("{}: could not {}", who, target, e);
      return Result.REFUSED;
    }
    if (e instanceof Error error) {
      throw error;
    }
    if (f.reason() == Outcome.Reason.INTERRUPTED && e instanceof InterruptedException) {
      // The policy set the interrupt status again; the lease runs out and the reaper returns it.
      log.warn(
          "{}: interrupted while waiting to {} again after {} tries, leaving it to the reaper",
          who,
          target,
          f.attempts());
      return Result.GAVE_UP;
    }
    tally.storeError();
    if (!isTransient(e)) {
      log.error(
          "{}: could not {}, a failure no retry can fix; leaving {} to the reaper",
          who,
          target,
          claim == null ? "them" : "it",
          e);
    } else {
      log.warn(
          "{}: could not {} after {} tries, leaving {} to the reaper: {}",
          who,
          target,
          f.attempts(),
          claim == null ? "them" : "it",
          e.toString());
    }
    return Result.GAVE_UP;
  }

  private static boolean retryable(Throwable e) {
    return e instanceof RuntimeException re
        && !(e instanceof LeaseLostException)
        && !(e instanceof IllegalArgumentException)
        && isTransient(re);
  }

  /** False for a store failure that the store says no retry can fix. */
  static boolean isTransient(Throwable e) {
    return !(e instanceof LeaseStoreException store) || store.isTransient();
  }
}
