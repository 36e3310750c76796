package dev.fanout.aws;

import dev.fanout.retry.ThrottledException;
import java.io.Serial;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import software.amazon.awssdk.core.exception.SdkServiceException;

/**
 * An AWS throttling error, as the retry policy's throttling class: every AWS call made by this
 * package turns a throttling response (see {@link AwsErrors#isThrottling}) into this exception
 * before the {@link dev.fanout.retry.RetryPolicy} sees it. It is a {@link ThrottledException}, so
 * any policy, even one built without {@link AwsErrors}, retries it with its throttling backoff
 * and cap without using up its normal attempts. The SDK's exception is the
 * {@linkplain #getCause() cause}; the server's {@code Retry-After}, if any, is the hint.
 *
 * <p>Throttling comes in storms, so this exception carries no stack trace.
 */
public final class AwsThrottledException extends ThrottledException {
  @Serial private static final long serialVersionUID = 1L;

  private final transient ThrottleScope scope;
  private final String operation;

  /**
   * @param scope where the call was made
   * @param operation the API operation, such as {@code ListClusters}
   * @param retryAfter the server's hint, or {@code null}
   * @param cause the SDK's throttling error
   */
  public AwsThrottledException(
      ThrottleScope scope,
      String operation,
      @Nullable Duration retryAfter,
      SdkServiceException cause) {
    super(
        scope.service() + " " + operation + " throttled in " + scope + ": "
            + AwsErrors.describe(cause),
        retryAfter,
        cause);
    this.scope = scope;
    this.operation = operation;
  }

  /** Where the throttled call was made. */
  public ThrottleScope scope() {
    return scope;
  }

  /** The API operation that was throttled. */
  public String operation() {
    return operation;
  }
}
