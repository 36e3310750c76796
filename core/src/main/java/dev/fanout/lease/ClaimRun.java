package dev.fanout.lease;

import dev.fanout.Policies;
import dev.fanout.breaker.CallNotPermittedException;
import dev.fanout.time.Ticker;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one claimed item goes through on a handler thread of {@link ClaimWorkers}: failed unseen
 * past {@code maxAttempts}, else marked started, run through the handler's policies, then
 * completed (at once or through the flusher), released for a retry, failed, or given back — and
 * counted in the {@link Tally} exactly once.
 */
final class ClaimRun<T> {
  private static final Logger log = LoggerFactory.getLogger(ClaimWorkers.class);

  private final ClaimLeaseRepository<T> repository;
  private final ClaimHandler<T> handler;
  private final Policies<? super T> policies;
  private final ClaimWorkersConfig config;
  private final StoreCalls<T> calls;
  private final Tally<T> tally;
  private final @Nullable CompletionFlusher<T> flusher;
  private final Ticker ticker;
  /** Whether the workers are running (false once a stop began). */
  private final BooleanSupplier running;
  /** The meters, once started with a registry. */
  private final Supplier<@Nullable ClaimMeters> meters;

  ClaimRun(
      ClaimLeaseRepository<T> repository,
      ClaimHandler<T> handler,
      Policies<? super T> policies,
      ClaimWorkersConfig config,
      StoreCalls<T> calls,
      Tally<T> tally,
      @Nullable CompletionFlusher<T> flusher,
      Ticker ticker,
      BooleanSupplier running,
      Supplier<@Nullable ClaimMeters> meters) {
    this.repository = repository;
    this.handler = handler;
    this.policies = policies;
    this.config = config;
    this.calls = calls;
    this.tally = tally;
    this.flusher = flusher;
    this.ticker = ticker;
    this.running = running;
    this.meters = meters;
  }

  /** Runs the handler on a claim this instance holds and settles it by what came of it. */
  void process(Held<T> h) {
    Claim<T> claim = h.claim;
    if (claim.attempt() > config.maxAttempts()) {
      String reason =
          "gave up: claimed "
              + claim.attempt()
              + " times, more than maxAttempts "
              + config.maxAttempts()
              + " (earlier runs started but their leases ended before their workers finished)";
      log.warn("{}: item {} {}", claim.workerId(), claim.item(), reason);
      settle(h, "fail", c -> repository.fail(c, reason), Tally.Outcome.FAILED);
      return;
    }
    // Recorded before the handler runs, so that a worker that dies on this item uses up one of
    // its attempts, and its batch-mates, not yet started, use up none.
    StoreCalls.Result start = calls.call(h, "mark started", repository::markStarted, false);
    if (start != StoreCalls.Result.APPLIED) {
      tally.settled(
          h,
          start == StoreCalls.Result.LEASE_LOST
              ? Tally.Outcome.LEASE_LOST
              : Tally.Outcome.ABANDONED);
      return;
    }
    long begin = ticker.read();
    Throwable error = null;
    if (h.beginRun()) {
      try {
        policies.call(
            claim.item(),
            () -> {
              handler.handle(claim);
              return null;
            });
      } catch (Throwable t) {
        error = t;
      } finally {
        h.endRun();
      }
    } else {
      error = new LeaseLostException(claim, "its renewal was refused before its handler started");
    }
    ClaimMeters m = meters.get();
    if (m != null) {
      m.recordHandler(ticker.read() - begin, error == null);
    }
    if (claim.isLeaseLost() && running.getAsBoolean()) {
      Thread.interrupted(); // our own interrupt, if the handler did not consume it
    }
    if (error == null) {
      complete(h);
      return;
    }
    if (!running.getAsBoolean() && (error instanceof InterruptedException || Thread.interrupted())) {
      Thread.interrupted(); // the store call below must not see our interrupt
      giveBack(h);
      return;
    }
    if (error instanceof VirtualMachineError vme) {
      giveBack(h);
      throw vme;
    }
    if (error instanceof CallNotPermittedException) {
      // An open breaker refused the handler call: the item was not worked on, so it keeps the
      // attempt it was given.
      giveBack(h);
      return;
    }
    if (claim.isLeaseLost()) {
      // The store refused the lease while the handler ran and we cut it short: the item is, or
      // will be, someone else's. Nothing to tell the store; the reaper returns it if need be.
      log.debug(
          "{}: item {} (token {}) lost its lease while its handler ran: {}",
          claim.workerId(),
          claim.item(),
          claim.token(),
          describe(error));
      tally.settled(h, Tally.Outcome.LEASE_LOST);
      return;
    }
    if (claim.attempt() >= config.maxAttempts()) {
      String reason = describe(error);
      log.warn(
          "{}: item {} failed on its last attempt ({} of {}): {}",
          claim.workerId(),
          claim.item(),
          claim.attempt(),
          config.maxAttempts(),
          reason);
      settle(h, "fail", c -> repository.fail(c, reason), Tally.Outcome.FAILED);
    } else {
      Duration delay = config.retryDelayAfter(claim.attempt());
      log.debug(
          "{}: item {} failed attempt {} of {}, retrying in {} ms: {}",
          claim.workerId(),
          claim.item(),
          claim.attempt(),
          config.maxAttempts(),
          delay.toMillis(),
          describe(error));
      settle(h, "release", c -> repository.release(c, delay), Tally.Outcome.RETRIED);
    }
  }

  private void complete(Held<T> h) {
    CompletionFlusher<T> f = flusher;
    if (f != null) {
      h.settling = true; // before the flusher can complete it: the heartbeat leaves it alone
      try {
        if (f.put(h)) {
          return;
        }
        // The flusher has finished (a handler that outlived a stop): complete it ourselves.
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        // Complete it ourselves below.
      }
    }
    boolean interrupted = Thread.interrupted();
    settle(h, "complete", repository::complete, Tally.Outcome.COMPLETED);
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Gives the claim back unworked: it does not count as an attempt. */
  void giveBack(Held<T> h) {
    settle(h, "give back", repository::giveBack, Tally.Outcome.GIVEN_BACK);
  }

  /** Runs one fenced call that ends a held claim, and counts what became of it. */
  private void settle(Held<T> h, String what, Consumer<Claim<T>> call, Tally.Outcome onApplied) {
    Tally.Outcome outcome = Tally.Outcome.ABANDONED;
    try {
      outcome =
          switch (calls.call(h, what, call, true)) {
            case APPLIED -> onApplied;
            case LEASE_LOST -> Tally.Outcome.LEASE_LOST;
            case REFUSED, GAVE_UP -> Tally.Outcome.ABANDONED;
          };
    } finally {
      tally.settled(h, outcome);
    }
  }


  private static String describe(Throwable error) {
    String message = error.getMessage();
    String text =
        message == null ? error.getClass().getName() : error.getClass().getName() + ": " + message;
    return text.length() > 1000 ? text.substring(0, 1000) : text;
  }
}
