package dev.fanout.aws;

import dev.fanout.rate.RateGate;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpRequest;

/**
 * Passes each request's rate gate as late as the SDK allows: after credentials, endpoint and
 * marshalling, just before signing and sending. A gate passed before the SDK call would let
 * that work (class loading, credential refresh, a loaded CPU) shift requests in time, so that
 * two requests granted one spacing apart could reach AWS closer together. Registered on every
 * client of {@link AwsClients}; a request without a gate attribute passes freely.
 */
final class GateInterceptor implements ExecutionInterceptor {
  static final ExecutionAttribute<RateGate> GATE = new ExecutionAttribute<>("fanout.rateGate");
  static final GateInterceptor INSTANCE = new GateInterceptor();

  private GateInterceptor() {}

  @Override
  public SdkHttpRequest modifyHttpRequest(
      Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
    RateGate gate = attributes.getAttribute(GATE);
    if (gate != null) {
      try {
        gate.acquire();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw AbortedException.builder()
            .message("interrupted while waiting for the rate gate")
            .cause(e)
            .build();
      }
    }
    return context.httpRequest();
  }
}
