package dev.fanout.aws;

import dev.fanout.ParallelConfig;
import dev.fanout.internal.Throwables;
import dev.fanout.retry.Backoff;
import dev.fanout.retry.Jitter;
import dev.fanout.retry.RetryAfter;
import dev.fanout.retry.RetryBudget;
import dev.fanout.retry.RetryPolicy;
import dev.fanout.retry.ThrottledException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkServiceException;

/**
 * How fanout reads AWS SDK v2 errors: which are throttling, which are worth another attempt, what
 * wait the server hinted, and a one-line description that is safe to log. The same rules drive
 * {@link #retryPolicy(ParallelConfig)}, the policy {@link AccountScanner} and
 * {@link RecipientAggregator} use unless given another.
 *
 * <h2>Throttling, as each service sends it</h2>
 *
 * <table>
 *   <caption>Throttling errors recognised</caption>
 *   <tr><th>service</th><th>HTTP status</th><th>error code</th></tr>
 *   <tr><td>SES v2</td><td>429</td><td>{@code TooManyRequestsException}</td></tr>
 *   <tr><td>Organizations</td><td>400</td><td>{@code TooManyRequestsException} (JSON {@code __type})</td></tr>
 *   <tr><td>EKS</td><td>429</td><td>{@code ThrottlingException}</td></tr>
 *   <tr><td>STS</td><td>400</td><td>{@code Throttling} (XML {@code <Code>})</td></tr>
 *   <tr><td>SSO</td><td>429</td><td>{@code TooManyRequestsException}</td></tr>
 * </table>
 *
 * Any HTTP 429 counts, and so do the codes in {@link #THROTTLING_CODES} whatever the status. A
 * quota error such as {@code LimitExceededException} is <em>not</em> throttling: waiting does
 * not lift a quota.
 *
 * {@snippet :
 * RetryPolicy policy = AwsErrors.retryPolicyBuilder(ParallelConfig.defaults())
 *     .maxThrottles(20)                       // tolerate longer throttling storms
 *     .listener(RetryListener.logging(log))   // "Throttled, retry 1/20 after 0.4s: ..."
 *     .build();
 * }
 */
public final class AwsErrors {

  /** Error codes that mean "slow down", whatever the HTTP status. */
  public static final Set<String> THROTTLING_CODES =
      Set.of(
          "Throttling",
          "ThrottlingException",
          "ThrottledException",
          "RequestThrottledException",
          "TooManyRequestsException",
          "RequestThrottled",
          "RequestLimitExceeded",
          "BandwidthLimitExceeded",
          "ProvisionedThroughputExceededException",
          "SlowDown",
          "PriorRequestNotComplete",
          "EC2ThrottledException",
          "TransactionInProgressException");

  /** Error codes of client-side (4xx) errors that another attempt may well cure. */
  private static final Set<String> TRANSIENT_CODES =
      Set.of(
          "RequestTimeout",
          "RequestTimeoutException",
          "IDPCommunicationError",
          "RequestTimeTooSkewed",
          "RequestExpired",
          "InternalFailure",
          "InternalError",
          "ServiceUnavailable",
          "ServiceUnavailableException");

  private static final int MAX_DEPTH = 8;

  private AwsErrors() {}

  /**
   * Whether {@code error} (or one of its causes) is the server asking to slow down: a
   * {@link ThrottledException} (which includes {@link AwsThrottledException}), an HTTP 429, or an
   * AWS error whose code is one of {@link #THROTTLING_CODES}.
   */
  public static boolean isThrottling(Throwable error) {
    return Throwables.anyInChain(
        error,
        t ->
            t instanceof ThrottledException
                || (t instanceof SdkServiceException s && isThrottlingServiceError(s)));
  }

  /** Whether a service error is throttling; see {@link #isThrottling(Throwable)}. */
  static boolean isThrottlingServiceError(SdkServiceException e) {
    if (e.statusCode() == 429) {
      return true;
    }
    String code = errorCode(e);
    return code != null && THROTTLING_CODES.contains(code);
  }

  /**
   * Whether another attempt may succeed where this one failed: throttling; a 5xx; a transient 4xx
   * (request timeout, clock skew, an identity provider that did not answer); or a client-side
   * I/O failure (connection refused or reset, read timeout, attempt timeout). Not retryable: other
   * 4xx errors such as {@code AccessDenied} or {@code ResourceNotFoundException} (asking again gets
   * the same answer), a call aborted by interruption, cancellation, and anything that is not an
   * {@link Exception}.
   */
  public static boolean isRetryable(Throwable error) {
    if (!(error instanceof Exception)
        || error instanceof InterruptedException
        || error instanceof CancellationException) {
      return false;
    }
    if (isThrottling(error)) {
      return true;
    }
    int depth = 0;
    for (Throwable t = error; t != null && depth < MAX_DEPTH; t = t.getCause(), depth++) {
      switch (t) {
        case AwsCallException nested -> {
          return false; // a call that already ran its own retries (credentials refresh)
        }
        case AbortedException aborted -> {
          return false;
        }
        case SdkServiceException s -> {
          String code = errorCode(s);
          return s.statusCode() >= 500 || (code != null && TRANSIENT_CODES.contains(code));
        }
        case ApiCallAttemptTimeoutException timeout -> {
          return true;
        }
        case IOException io -> {
          return true;
        }
        case UncheckedIOException io -> {
          return true;
        }
        case SdkClientException client -> {
          // Look further down: an SdkClientException is retryable only for an I/O cause.
        }
        default -> {}
      }
    }
    return false;
  }

  /**
   * The wait the server asked for: a {@link RetryAfter} hint in the cause chain, or the
   * {@code Retry-After} header (seconds or an HTTP date) of an AWS error response. Empty if none.
   */
  public static Optional<Duration> retryAfter(Throwable error) {
    int depth = 0;
    for (Throwable t = error; t != null && depth < MAX_DEPTH; t = t.getCause(), depth++) {
      if (t instanceof RetryAfter hint) {
        Optional<Duration> wait = hint.retryAfter();
        if (wait.isPresent()) {
          return wait;
        }
      }
      if (t instanceof AwsServiceException s && s.awsErrorDetails() != null) {
        Optional<String> header =
            s.awsErrorDetails().sdkHttpResponse().firstMatchingHeader("Retry-After");
        if (header.isPresent()) {
          return parseRetryAfter(header.get());
        }
      }
    }
    return Optional.empty();
  }

  static Optional<Duration> parseRetryAfter(String value) {
    String v = value.trim();
    try {
      long seconds = Long.parseLong(v);
      return seconds < 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(seconds));
    } catch (NumberFormatException notSeconds) {
      try {
        Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        Duration wait = Duration.between(Instant.now(), at);
        return Optional.of(wait.isNegative() ? Duration.ZERO : wait);
      } catch (DateTimeParseException notADate) {
        return Optional.empty();
      }
    }
  }

  /**
   * The AWS error code of {@code error} or its first AWS service error cause, such as
   * {@code AccessDenied}; {@code null} if there is none.
   */
  public static @Nullable String errorCode(Throwable error) {
    int depth = 0;
    for (Throwable t = error; t != null && depth < MAX_DEPTH; t = t.getCause(), depth++) {
      if (t instanceof AwsServiceException s && s.awsErrorDetails() != null) {
        return s.awsErrorDetails().errorCode();
      }
    }
    return null;
  }

  /**
   * One line about {@code error} for logs and reports: its simple class name and message, such as
   * {@code StsException: User is not authorized to perform: sts:AssumeRole (Service: Sts, Status
   * Code: 403, Request ID: ...)}. SDK messages name the service, status and request id, never a
   * credential.
   */
  public static String describe(Throwable error) {
    String message = error.getMessage();
    String name = error.getClass().getSimpleName();
    return message == null || message.isBlank() ? name : name + ": " + message;
  }

  /**
   * The policy fanout uses for AWS calls unless told otherwise: see
   * {@link #retryPolicyBuilder(ParallelConfig)}.
   */
  public static RetryPolicy retryPolicy(ParallelConfig config) {
    return retryPolicyBuilder(config).build();
  }

  /**
   * A retry policy builder set up for AWS, to adjust and build:
   *
   * <ul>
   *   <li>{@code config.maxAttempts() - 1} normal retries (3 by default), waiting 1 s, 2 s,
   *       4 s ... (at most 30 s) with equal jitter;
   *   <li>only {@linkplain #isRetryable retryable} errors are retried: an access-denied account
   *       fails at once instead of four times;
   *   <li>throttling ({@link #isThrottling}) is the policy's throttling class: up to 10 throttled
   *       retries waiting 500 ms, 1 s, 2 s ... (at most 20 s, full jitter, at least any
   *       {@code Retry-After}), not counted against the normal retries;
   *   <li>a fresh {@link RetryBudget} named {@code aws} (500 tokens, 5 per retry, 1 back per
   *       success) shared by every call made with the policy, so a region-wide outage does not
   *       become a retry storm.
   * </ul>
   */
  public static RetryPolicy.Builder retryPolicyBuilder(ParallelConfig config) {
    return RetryPolicy.builder()
        .name("aws")
        .maxAttempts(config.maxAttempts())
        .backoff(
            Backoff.exponential(Duration.ofSeconds(1), 2.0, Duration.ofSeconds(30))
                .withJitter(Jitter.EQUAL))
        .retryOn(AwsErrors::isRetryable)
        .throttledWhen(AwsErrors::isThrottling)
        .throttleBackoff(
            Backoff.exponential(Duration.ofMillis(500), 2.0, Duration.ofSeconds(20))
                .withJitter(Jitter.FULL))
        .maxThrottles(10)
        .retryAfter(AwsErrors::retryAfter)
        .budget(RetryBudget.builder().name("aws").build());
  }

  private static @Nullable String errorCode(SdkServiceException e) {
    if (e instanceof AwsServiceException aws && aws.awsErrorDetails() != null) {
      return aws.awsErrorDetails().errorCode();
    }
    return null;
  }
}
