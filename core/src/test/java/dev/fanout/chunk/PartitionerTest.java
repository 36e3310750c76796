package dev.fanout.chunk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.hash.Hashing;
import java.nio.charset.StandardCharsets;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class PartitionerTest {

  @Test
  void knownMurmur3Vectors() {
    assertThat(Partitioner.hash("")).isZero();
    assertThat(Partitioner.hash("hello")).isEqualTo(0x248bfa47);
    assertThat(Partitioner.hash("The quick brown fox jumps over the lazy dog"))
        .isEqualTo(0x2e4ff723);
  }

  @Property
  void equalsGuavasMurmur3OverUtf8(@ForAll String key) {
    int guava = Hashing.murmur3_32_fixed().hashBytes(key.getBytes(StandardCharsets.UTF_8)).asInt();
    assertThat(Partitioner.hash(key)).isEqualTo(guava);
  }

  @Property
  void partitionIsInRangeAndStable(
      @ForAll String key, @ForAll @IntRange(min = 1, max = 1024) int partitions) {
    Partitioner partitioner = Partitioner.of(partitions);
    int p = partitioner.partitionOf(key);
    assertThat(p).isBetween(0, partitions - 1);
    assertThat(Partitioner.of(partitions).partitionOf(new StringBuilder(key))).isEqualTo(p);
  }

  @Test
  void spreadsKeysEvenly() {
    Partitioner partitioner = Partitioner.of(8);
    int[] counts = new int[8];
    for (int i = 0; i < 80_000; i++) {
      counts[partitioner.partitionOf("evt-" + i)]++;
    }
    for (int count : counts) {
      assertThat(count).isBetween(9_500, 10_500);
    }
  }

  @Test
  void rejectsNonPositivePartitionCounts() {
    assertThatThrownBy(() -> Partitioner.of(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("partitions must be at least 1, was 0");
  }
}
