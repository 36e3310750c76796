package dev.fanout.aws;

import java.util.Set;
import java.util.stream.Collectors;

/** Platform threads of this JVM, for leak checks. */
final class Threads {
  private Threads() {}

  /**
   * Live platform threads, less those that come and go on their own: Jetty's pool threads of the
   * WireMock server, the JDK's virtual-thread carriers and Awaitility's poller.
   */
  static Set<String> platformThreadNames() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(
            name ->
                !name.startsWith("qtp")
                    && !name.startsWith("ForkJoinPool-")
                    && !name.startsWith("awaitility"))
        .collect(Collectors.toSet());
  }
}
