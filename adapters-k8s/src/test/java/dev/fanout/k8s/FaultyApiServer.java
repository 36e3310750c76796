package dev.fanout.k8s;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * fabric8's mock API server in CRUD mode, behind a dispatcher that injects faults: chosen requests
 * get an error status (with an optional {@code retryAfterSeconds} hint) or a slow answer, and
 * every request is recorded with the time it arrived. Clients made by {@link #client(String)}
 * send their name as the User-Agent, so a fault can hit one replica only.
 */
final class FaultyApiServer implements AutoCloseable {

  /** One request the server saw. */
  record Seen(String method, String path, @Nullable String userAgent, long nanos) {}

  /** A fault: which requests, what answer, how many more times (negative: for ever). */
  static final class Fault {
    final Predicate<RecordedRequest> matches;
    final int code;
    final @Nullable Integer retryAfterSeconds;
    final @Nullable Duration delay;
    final AtomicInteger remaining;
    final AtomicInteger hits = new AtomicInteger();

    private Fault(
        Predicate<RecordedRequest> matches,
        int code,
        @Nullable Integer retryAfterSeconds,
        @Nullable Duration delay,
        int times) {
      this.matches = matches;
      this.code = code;
      this.retryAfterSeconds = retryAfterSeconds;
      this.delay = delay;
      this.remaining = new AtomicInteger(times);
    }

    boolean take(RecordedRequest request) {
      if (!matches.test(request)) {
        return false;
      }
      while (true) {
        int left = remaining.get();
        if (left == 0) {
          return false;
        }
        if (left < 0 || remaining.compareAndSet(left, left - 1)) {
          hits.incrementAndGet();
          return true;
        }
      }
    }
  }

  final Queue<Seen> seen = new ConcurrentLinkedQueue<>();
  private final Queue<Fault> faults = new ConcurrentLinkedQueue<>();
  private final KubernetesMockServer server;
  private final Queue<KubernetesClient> clients = new ConcurrentLinkedQueue<>();

  FaultyApiServer() {
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    Dispatcher crud = new KubernetesMixedDispatcher(responses);
    Dispatcher faulty =
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            seen.add(
                new Seen(
                    request.getMethod(),
                    request.getPath(),
                    userAgentOf(request),
                    System.nanoTime()));
            for (Fault fault : faults) {
              if (fault.take(request)) {
                return answer(fault, request, crud);
              }
            }
            return crud.dispatch(request);
          }
        };
    server = new KubernetesMockServer(new Context(), new MockWebServer(), responses, faulty, false);
    server.init(InetAddress.getLoopbackAddress(), 0);
  }

  private static MockResponse answer(Fault fault, RecordedRequest request, Dispatcher crud) {
    if (fault.code == 0) { // slow, but otherwise the real answer
      return crud.dispatch(request).setBodyDelay(fault.delay);
    }
    String details =
        fault.retryAfterSeconds == null
            ? ""
            : ",\"details\":{\"retryAfterSeconds\":" + fault.retryAfterSeconds + "}";
    MockResponse response =
        new MockResponse()
            .setResponseCode(fault.code)
            .setHeader("Content-Type", "application/json")
            .setBody(
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"code\":"
                    + fault.code
                    + ",\"message\":\"injected fault\""
                    + details
                    + "}");
    if (fault.retryAfterSeconds != null) {
      response.setHeader("Retry-After", fault.retryAfterSeconds);
    }
    if (fault.delay != null) {
      response.setBodyDelay(fault.delay);
    }
    return response;
  }

  /** Answers matching requests with {@code code}, {@code times} times (negative: for ever). */
  Fault fail(Predicate<RecordedRequest> matches, int code, int times) {
    return add(new Fault(matches, code, null, null, times));
  }

  /** Answers matching requests with {@code code} and a {@code retryAfterSeconds} hint. */
  Fault fail(Predicate<RecordedRequest> matches, int code, int retryAfterSeconds, int times) {
    return add(new Fault(matches, code, retryAfterSeconds, null, times));
  }

  /** Gives matching requests their real answer, {@code delay} late. */
  Fault slow(Predicate<RecordedRequest> matches, Duration delay, int times) {
    return add(new Fault(matches, 0, null, delay, times));
  }

  /** Answers matching requests with {@code code}, {@code delay} late, without applying them. */
  Fault failSlowly(Predicate<RecordedRequest> matches, int code, Duration delay, int times) {
    return add(new Fault(matches, code, null, delay, times));
  }

  private Fault add(Fault fault) {
    faults.add(fault);
    return fault;
  }

  void clearFaults() {
    faults.clear();
  }

  static Predicate<RecordedRequest> request(String method, String pathPrefix) {
    return r -> r.getMethod().equalsIgnoreCase(method) && r.getPath().startsWith(pathPrefix);
  }

  /** The request's body, read without consuming it (the CRUD dispatcher reads it after). */
  static String bodyOf(RecordedRequest request) {
    return request.getBody() == null
        ? ""
        : new String(request.getBody().getBytes(), java.nio.charset.StandardCharsets.UTF_8);
  }

  static Predicate<RecordedRequest> from(String userAgent) {
    return r -> userAgent.equals(userAgentOf(r));
  }

  static @Nullable String userAgentOf(RecordedRequest request) {
    for (Map.Entry<String, List<String>> header :
        request.getHeaders().toMultimap().entrySet()) {
      if (header.getKey().equalsIgnoreCase("User-Agent") && !header.getValue().isEmpty()) {
        return header.getValue().get(0);
      }
    }
    return null;
  }

  /** How many requests with {@code method} on a path starting with {@code pathPrefix} came. */
  long count(String method, String pathPrefix) {
    return seen.stream()
        .filter(s -> s.method().equalsIgnoreCase(method) && s.path().startsWith(pathPrefix))
        .count();
  }

  /** A real fabric8 client with its default settings (retries included), closed with the server. */
  KubernetesClient client(String userAgent) {
    return client(userAgent, null);
  }

  /** The server's host name and port, for a proxy in front of it. */
  java.net.URI address() {
    try (KubernetesClient mock = server.createClient()) {
      return java.net.URI.create(mock.getConfiguration().getMasterUrl());
    }
  }

  /** As {@link #client(String)}, reaching the server at {@code masterUrl} (e.g. through a proxy). */
  KubernetesClient client(String userAgent, @Nullable String masterUrl) {
    return client(userAgent, masterUrl, null);
  }

  /** As {@link #client(String, String)}, giving up on a request after {@code requestTimeout}. */
  KubernetesClient client(
      String userAgent, @Nullable String masterUrl, @Nullable Duration requestTimeout) {
    Config config;
    try (KubernetesClient mock = server.createClient()) {
      ConfigBuilder builder = new ConfigBuilder(mock.getConfiguration());
      if (masterUrl != null) {
        builder.withMasterUrl(masterUrl);
      }
      if (requestTimeout != null) {
        builder.withRequestTimeout((int) requestTimeout.toMillis());
      }
      config =
          builder
              .withUserAgent(userAgent)
              // fabric8's defaults, as a user's client has them: 10 retries from 100 ms, doubling
              .withRequestRetryBackoffLimit(10)
              .withRequestRetryBackoffInterval(100)
              .build();
    }
    KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
    clients.add(client);
    return client;
  }

  @Override
  public void close() {
    clients.forEach(KubernetesClient::close);
    server.destroy();
  }
}
