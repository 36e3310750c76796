package dev.fanout.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fanout.retry.ThrottledException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.SdkHttpResponse;

/** The classification rules on their own; the wire shapes are covered by {@link ThrottlingTest}. */
class AwsErrorsTest {

  static AwsServiceException service(int status, String code, String... headers) {
    SdkHttpResponse.Builder response = SdkHttpResponse.builder().statusCode(status);
    for (int i = 0; i + 1 < headers.length; i += 2) {
      response.putHeader(headers[i], headers[i + 1]);
    }
    return AwsServiceException.builder()
        .statusCode(status)
        .message(code)
        .awsErrorDetails(
            AwsErrorDetails.builder().errorCode(code).errorMessage(code).sdkHttpResponse(response.build()).build())
        .build();
  }

  @Test
  void throttlingIsAny429OrAThrottlingCode() {
    assertThat(AwsErrors.isThrottling(service(429, "Whatever"))).isTrue();
    assertThat(AwsErrors.isThrottling(service(400, "Throttling"))).isTrue();
    assertThat(AwsErrors.isThrottling(service(400, "TooManyRequestsException"))).isTrue();
    assertThat(AwsErrors.isThrottling(service(400, "LimitExceededException"))).isFalse();
    assertThat(AwsErrors.isThrottling(service(403, "AccessDenied"))).isFalse();
    assertThat(AwsErrors.isThrottling(new RuntimeException("wrapped", service(400, "Throttling")))).isTrue();
    assertThat(AwsErrors.isThrottling(new ThrottledException("429"))).isTrue();
  }

  @Test
  void retryableAreThrottling5xxTransientCodesAndIo() {
    assertThat(AwsErrors.isRetryable(service(500, "InternalFailure"))).isTrue();
    assertThat(AwsErrors.isRetryable(service(503, "ServiceUnavailable"))).isTrue();
    assertThat(AwsErrors.isRetryable(service(400, "RequestTimeout"))).isTrue();
    assertThat(AwsErrors.isRetryable(service(400, "Throttling"))).isTrue();
    assertThat(AwsErrors.isRetryable(service(403, "AccessDenied"))).isFalse();
    assertThat(AwsErrors.isRetryable(service(404, "ResourceNotFoundException"))).isFalse();
    assertThat(AwsErrors.isRetryable(SdkClientException.create("reset", new IOException("Connection reset")))).isTrue();
    assertThat(AwsErrors.isRetryable(SdkClientException.create("slow", new SocketTimeoutException("Read timed out")))).isTrue();
    assertThat(AwsErrors.isRetryable(SdkClientException.create("Unable to load credentials"))).isFalse();
    assertThat(AwsErrors.isRetryable(AbortedException.create("interrupted"))).isFalse();
    assertThat(AwsErrors.isRetryable(new InterruptedException())).isFalse();
    assertThat(AwsErrors.isRetryable(new CancellationException())).isFalse();
    assertThat(AwsErrors.isRetryable(new OutOfMemoryError())).isFalse();
  }

  @Test
  void retryAfterReadsHintsAndHeaders() {
    assertThat(AwsErrors.retryAfter(service(429, "Throttling", "Retry-After", "3"))).contains(Duration.ofSeconds(3));
    assertThat(AwsErrors.retryAfter(service(429, "Throttling"))).isEmpty();
    assertThat(AwsErrors.retryAfter(new ThrottledException("x", Duration.ofMillis(700), null))).contains(Duration.ofMillis(700));
    assertThat(AwsErrors.parseRetryAfter("soon")).isEmpty();
    assertThat(AwsErrors.parseRetryAfter("-1")).isEmpty();
    assertThat(AwsErrors.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT")).isEqualTo(Optional.of(Duration.ZERO));
  }

  @Test
  void theDefaultPolicyIsTheOriginalClisRetriesWithAwsClassification() {
    var policy = AwsErrors.retryPolicy(dev.fanout.ParallelConfig.defaults());
    assertThat(policy.maxAttempts()).isEqualTo(4);
    assertThat(policy.maxThrottles()).isEqualTo(10);
    assertThat(policy.backoff().initial()).isEqualTo(Duration.ofSeconds(1));
    assertThat(policy.budget()).isNotNull();
    assertThat(AwsErrors.errorCode(new RuntimeException(service(403, "AccessDenied")))).isEqualTo("AccessDenied");
  }
}
