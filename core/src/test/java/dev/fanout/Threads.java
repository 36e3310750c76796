package dev.fanout;

import java.util.Set;
import java.util.stream.Collectors;

/** Platform threads of this JVM, for leak checks. */
final class Threads {
  private Threads() {}

  static Set<String> platformThreadNames() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .collect(Collectors.toSet());
  }

  static Set<String> fanoutThreadNames() {
    return platformThreadNames().stream()
        .filter(name -> name.startsWith("fanout-"))
        .collect(Collectors.toSet());
  }
}
