package dev.fanout.aws;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.core.exception.AbortedException;

/**
 * Temporary credentials of one account (from AssumeRole or SSO GetRoleCredentials), fetched
 * through the caller's gates and retry policy and fetched again shortly before they expire. Only
 * one thread fetches at a time; the others wait for its result. {@link #toString()} names the
 * account, never a key.
 */
final class RefreshingCredentials implements AwsCredentialsProvider {
  /** Credentials this close to expiry are replaced before use. */
  static final Duration REFRESH_BEFORE_EXPIRY = Duration.ofMinutes(5);

  /** A fetch of fresh credentials. */
  @FunctionalInterface
  interface Fetch {
    AwsSessionCredentials fetch() throws InterruptedException;
  }

  private final String description;
  private final Fetch fetch;
  private final ReentrantLock lock = new ReentrantLock();
  private volatile @Nullable AwsSessionCredentials current;

  RefreshingCredentials(String description, Fetch fetch) {
    this.description = Objects.requireNonNull(description, "description");
    this.fetch = Objects.requireNonNull(fetch, "fetch");
  }

  /** Fetches the first credentials now, so that a failure belongs to the account's own task. */
  RefreshingCredentials prime() throws InterruptedException {
    AwsSessionCredentials fresh = fetch.fetch();
    current = fresh;
    return this;
  }

  @Override
  public AwsCredentials resolveCredentials() {
    AwsSessionCredentials credentials = current;
    if (credentials != null && !expiringSoon(credentials)) {
      return credentials;
    }
    lock.lock();
    try {
      credentials = current;
      if (credentials != null && !expiringSoon(credentials)) {
        return credentials;
      }
      AwsSessionCredentials fresh = fetch.fetch();
      current = fresh;
      return fresh;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw AbortedException.builder()
          .message("interrupted while refreshing credentials of " + description)
          .build();
    } finally {
      lock.unlock();
    }
  }

  private static boolean expiringSoon(AwsSessionCredentials credentials) {
    return credentials
        .expirationTime()
        .map(expiry -> Instant.now().plus(REFRESH_BEFORE_EXPIRY).isAfter(expiry))
        .orElse(false);
  }

  @Override
  public String toString() {
    return "RefreshingCredentials[" + description + "]";
  }
}
