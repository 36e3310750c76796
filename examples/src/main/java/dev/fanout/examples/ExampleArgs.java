package dev.fanout.examples;

import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The examples' arguments: {@code name=value} settings (sizes, latencies, URLs) and the AWS
 * examples' {@code --flag value} options.
 */
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

  /** The value of a {@code name=value} argument, or {@code otherwise}. */
  static String value(String[] args, String name, String otherwise) {
    for (String arg : args) {
      if (arg.startsWith(name + "=")) {
        return arg.substring(name.length() + 1);
      }
    }
    return otherwise;
  }

  /** A positive {@code name=value} number, or {@code otherwise}. */
  static int number(String[] args, String name, int otherwise) {
    return number(args, name, otherwise, 1);
  }

  /**
   * A {@code name=value} number of at least {@code min}, or {@code otherwise}.
   *
   * @throws IllegalArgumentException naming the setting and the value, if it is no such number
   */
  static int number(String[] args, String name, int otherwise, int min) {
    String value = value(args, name, Integer.toString(otherwise));
    int parsed;
    try {
      parsed = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a number, was '" + value + "'", e);
    }
    if (parsed < min) {
      throw new IllegalArgumentException(
          name + (min == 0 ? " must not be negative" : " must be at least " + min) + ", was " + parsed);
    }
    return parsed;
  }

  static double seconds(java.time.Duration d) {
    return d.toNanos() / 1e9;
  }
}
