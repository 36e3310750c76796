package dev.fanout.examples;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Runs fanout's examples: {@code all} (the default) or one by name. Each example runs on embedded
 * defaults, so it needs nothing but a JDK.
 *
 * <pre>
 * mvn -B -q -Pexamples -DskipTests verify                      # all
 * mvn -B -q -Pexamples -DskipTests verify -Dexample=customers  # one
 * </pre>
 */
public final class Examples {

  /** An example's entry point. */
  @FunctionalInterface
  interface Example {
    void run(String[] args) throws Exception;
  }

  private static final Map<String, Example> EXAMPLES = new LinkedHashMap<>();

  static {
    EXAMPLES.put("customers", CustomersExample::main);
    EXAMPLES.put("chunk-ingest", ChunkIngestExample::main);
    EXAMPLES.put("credential-check", CredentialCheckExample::main);
    EXAMPLES.put("namespace-watcher", NamespaceWatcherExample::main);
    EXAMPLES.put("account-scan", AccountScanExample::main);
    EXAMPLES.put("recipients", RecipientsExample::main);
  }

  private Examples() {}

  public static void main(String[] args) throws Exception {
    String which = args.length == 0 ? "all" : args[0];
    String[] rest = args.length <= 1 ? new String[0] : java.util.Arrays.copyOfRange(args, 1, args.length);
    if (which.equals("all")) {
      for (Map.Entry<String, Example> example : EXAMPLES.entrySet()) {
        banner(example.getKey());
        example.getValue().run(rest);
      }
      return;
    }
    Example example = EXAMPLES.get(which);
    if (example == null) {
      System.err.println("unknown example '" + which + "'; known: all, " + String.join(", ", EXAMPLES.keySet()));
      System.exit(2);
    }
    banner(which);
    example.run(rest);
  }

  private static void banner(String name) {
    System.out.println();
    System.out.println("=== " + name + " ".repeat(Math.max(1, 60 - name.length())).replace(' ', '='));
  }
}
