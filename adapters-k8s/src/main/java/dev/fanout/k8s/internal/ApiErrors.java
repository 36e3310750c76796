package dev.fanout.k8s.internal;

import dev.fanout.internal.Throwables;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ExceptionHandler;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CancellationException;

/** How the watcher tells API errors apart: worth another try, throttling, or final. */
public final class ApiErrors {
  private ApiErrors() {}

  /**
   * Whether another try may succeed: no HTTP answer (a reset or refused connection, a timeout),
   * a 5xx or a 429; not an interruption, a cancellation, a 4xx or an error of the client itself.
   */
  public static boolean isTransient(Throwable e) {
    if (e instanceof InterruptedException || e instanceof CancellationException) {
      return false;
    }
    if (e instanceof KubernetesClientException k) {
      int code = k.getCode();
      if (code > 0) {
        return code == 429 || code >= 500;
      }
      // No HTTP answer: fabric8 gives code -1 (or 0) and the cause, an I/O error or a timeout,
      // unless the client itself failed: interrupted, or an answer it could not read.
      return Throwables.findInChain(k, InterruptedException.class) == null
          && !ExceptionHandler.isDeserializationException(k);
    }
    return e instanceof Exception;
  }

  /** Whether the server throttled the call (429). */
  public static boolean isThrottled(Throwable e) {
    return e instanceof KubernetesClientException k && k.getCode() == 429;
  }

  /** The API server's hint: a Status with {@code details.retryAfterSeconds}. */
  public static Optional<Duration> retryAfter(Throwable e) {
    if (e instanceof KubernetesClientException k
        && k.getStatus() != null
        && k.getStatus().getDetails() != null
        && k.getStatus().getDetails().getRetryAfterSeconds() != null) {
      return Optional.of(Duration.ofSeconds(k.getStatus().getDetails().getRetryAfterSeconds()));
    }
    return Optional.empty();
  }
}
