package dev.fanout.chunk;

import java.nio.charset.StandardCharsets;

/**
 * Maps a key to one of {@code n} partitions with a stable hash: MurmurHash3 (x86, 32-bit, seed
 * 0) over the key's UTF-8 bytes, taken modulo {@code n} (never negative). Unlike
 * {@link Object#hashCode()}, the result is the same in every JVM, run and version, so a key has
 * the same owner everywhere: the property hash-partitioned ingestion depends on.
 *
 * {@snippet :
 * Partitioner partitioner = Partitioner.of(8);
 * int lane = partitioner.partitionOf("evt-7f3a");   // always the same lane for this id
 * }
 *
 * <p>The hash equals Guava's {@code Hashing.murmur3_32_fixed()} over the same bytes.
 */
public final class Partitioner {
  private final int partitions;

  private Partitioner(int partitions) {
    this.partitions = partitions;
  }

  /**
   * A partitioner over {@code partitions} partitions.
   *
   * @throws IllegalArgumentException if {@code partitions < 1}
   */
  public static Partitioner of(int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be at least 1, was " + partitions);
    }
    return new Partitioner(partitions);
  }

  /** How many partitions there are. */
  public int partitions() {
    return partitions;
  }

  /** The partition of {@code key}, in {@code [0, partitions)}. */
  public int partitionOf(CharSequence key) {
    return Math.floorMod(hash(key), partitions);
  }

  /** MurmurHash3 x86 32-bit with seed 0 over the UTF-8 bytes of {@code key}. */
  public static int hash(CharSequence key) {
    return murmur3x86x32(key.toString().getBytes(StandardCharsets.UTF_8), 0);
  }

  /** MurmurHash3 x86 32-bit of {@code data} with the given seed. */
  public static int murmur3x86x32(byte[] data, int seed) {
    final int c1 = 0xcc9e2d51;
    final int c2 = 0x1b873593;
    int h = seed;
    int blocks = data.length / 4;
    for (int i = 0; i < blocks; i++) {
      int at = i * 4;
      int k =
          (data[at] & 0xff)
              | (data[at + 1] & 0xff) << 8
              | (data[at + 2] & 0xff) << 16
              | (data[at + 3] & 0xff) << 24;
      k *= c1;
      k = Integer.rotateLeft(k, 15);
      k *= c2;
      h ^= k;
      h = Integer.rotateLeft(h, 13);
      h = h * 5 + 0xe6546b64;
    }
    int tail = blocks * 4;
    int k = 0;
    switch (data.length & 3) {
      case 3:
        k ^= (data[tail + 2] & 0xff) << 16;
      // fall through
      case 2:
        k ^= (data[tail + 1] & 0xff) << 8;
      // fall through
      case 1:
        k ^= data[tail] & 0xff;
        k *= c1;
        k = Integer.rotateLeft(k, 15);
        k *= c2;
        h ^= k;
      // fall through
      default:
        break;
    }
    h ^= data.length;
    h ^= h >>> 16;
    h *= 0x85ebca6b;
    h ^= h >>> 13;
    h *= 0xc2b2ae35;
    h ^= h >>> 16;
    return h;
  }

  @Override
  public String toString() {
    return "Partitioner[murmur3_32 mod " + partitions + "]";
  }
}
