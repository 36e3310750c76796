package dev.fanout.examples;

import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** The {@code --flag value} arguments of the AWS examples. */
final class ExampleArgs {
  private ExampleArgs() {}

  /** The value after {@code --name}, or {@code null} if the flag is absent. */
  static @Nullable String flag(String[] args, String name) {
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals(name)) {
        if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
          throw new IllegalArgumentException(name + " needs a value");
        }
        return args[i + 1];
      }
    }
    return null;
  }

  /** Whether {@code --name} is present. */
  static boolean has(String[] args, String name) {
    return Arrays.asList(args).contains(name);
  }

  /** A comma-separated flag as a list, or {@code otherwise}. */
  static List<String> list(String[] args, String name, List<String> otherwise) {
    String value = flag(args, name);
    return value == null ? otherwise : List.of(value.split(","));
  }

  static double seconds(java.time.Duration d) {
    return d.toNanos() / 1e9;
  }
}
