package dev.fanout.aws;

import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import software.amazon.awssdk.regions.Region;

/** Region names checked against the SDK's list, so a typo fails before any call. */
final class Regions {
  private Regions() {}

  /**
   * Returns {@code region} if the SDK knows it.
   *
   * @throws IllegalArgumentException naming the field, the value and the known regions
   */
  static String requireKnown(String field, String region) {
    Objects.requireNonNull(region, field + " must not be null");
    if (region.isBlank()) {
      throw new IllegalArgumentException(field + " must not be blank, was '" + region + "'");
    }
    if (!Region.regions().contains(Region.of(region))) {
      Set<String> known = new TreeSet<>();
      for (Region r : Region.regions()) {
        if (!r.isGlobalRegion()) {
          known.add(r.id());
        }
      }
      throw new IllegalArgumentException(
          field + " has unknown region '" + region + "'; known regions: " + String.join(", ", known));
    }
    return region;
  }
}
