package dev.fanout.internal;

/** The one check every builder's {@code name(..)} makes. */
public final class Names {
  private Names() {}

  /**
   * Returns {@code name} if it has a non-blank character.
   *
   * @throws IllegalArgumentException if {@code name} is blank, naming the bad value
   */
  public static String nonBlank(String name) {
    if (name.isBlank()) {
      throw new IllegalArgumentException("name must not be blank, was '" + name + "'");
    }
    return name;
  }
}
