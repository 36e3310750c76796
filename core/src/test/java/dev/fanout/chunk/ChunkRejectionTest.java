package dev.fanout.chunk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A malformed chunk is rejected by position, and no event's data reaches the message. */
class ChunkRejectionTest {

  /** An event whose {@code toString()} shows its payload, as records do. */
  record Event(String id, String customer, String payload) {}

  private static Event event(String id, String customer) {
    return new Event(id, customer, "card=4111-1111-1111-1111");
  }

  private final InMemoryIdempotentSink<Event, String> sink = new InMemoryIdempotentSink<>(Event::id);

  private final List<List<Event>> input =
      List.of(
          List.of(event("evt-1", "c1"), event("evt-2", "c2"), event("evt-3", "c3")),
          List.of(event("evt-4", "c4"), event("evt-5", "c5"), event("evt-6", null)),
          List.of(event("evt-7", "c7")));

  @Test
  void aNullPartitionKeyRejectsTheChunkByPosition() {
    ChunkProcessor<Event, String> processor =
        ChunkProcessor.builder(Event::id, sink).partitions(4).partitionKey(Event::customer).build();

    assertThatThrownBy(() -> processor.process(input))
        .isInstanceOfSatisfying(
            ChunkRejectedException.class,
            e -> {
              assertThat(e).hasMessage("chunk 1 holds an event whose partition key is null at position 2");
              assertThat(e.partialReport().chunks()).isEqualTo(1);
              assertThat(e.partialReport().inserted()).isEqualTo(3);
            });
    assertThat(sink.contents()).containsOnlyKeys("evt-1", "evt-2", "evt-3");
  }

  @Test
  void aNullPartitionKeyFromTheDefaultKeyIsRejectedToo() {
    // The default key is String.valueOf(id); an id whose toString() is null gives no key.
    record Id(String value) {
      @Override
      public String toString() {
        return value;
      }
    }
    InMemoryIdempotentSink<Id, Id> ids = new InMemoryIdempotentSink<>(id -> id);
    ChunkProcessor<Id, Id> processor = ChunkProcessor.builder((Id id) -> id, ids).partitions(2).build();

    assertThatThrownBy(() -> processor.process(List.of(List.of(new Id("a"), new Id(null)))))
        .isInstanceOf(ChunkRejectedException.class)
        .hasMessage("chunk 0 holds an event whose partition key is null at position 1");
    assertThat(ids.size()).isZero();
  }

  @Test
  void anEventWithoutIdIsRejectedWithoutPrintingIt() {
    ChunkProcessor<Event, String> processor = ChunkProcessor.builder(Event::id, sink).partitions(2).build();

    assertThatThrownBy(() -> processor.process(List.of(List.of(event("evt-1", "c1"), event(null, "c2")))))
        .isInstanceOf(ChunkRejectedException.class)
        .hasMessage("chunk 0 holds an event without id at position 1")
        .message()
        .doesNotContain("card", "c2");
  }

  @Test
  void aFailingKeyFunctionRejectsTheChunkByPositionWithItsErrorAsCause() {
    IllegalStateException broken = new IllegalStateException("no customer");
    ChunkProcessor<Event, String> processor =
        ChunkProcessor.builder(Event::id, sink)
            .partitions(4)
            .partitionKey(
                e -> {
                  if (e.customer() == null) {
                    throw broken;
                  }
                  return e.customer();
                })
            .build();

    assertThatThrownBy(() -> processor.process(input))
        .isInstanceOfSatisfying(
            ChunkRejectedException.class,
            e -> {
              assertThat(e)
                  .hasMessage("chunk 1: the partition key function failed on the event at position 2")
                  .hasCause(broken);
              assertThat(e.partialReport().inserted()).isEqualTo(3);
            });
    assertThat(sink.contents()).containsOnlyKeys("evt-1", "evt-2", "evt-3");
  }

  @Test
  void aFailingIdFunctionRejectsTheChunkByPositionWithItsErrorAsCause() {
    IllegalArgumentException broken = new IllegalArgumentException("unparsable");
    ChunkProcessor<Event, String> processor =
        ChunkProcessor.builder(
                (Event e) -> {
                  if (e.customer() == null) {
                    throw broken;
                  }
                  return e.id();
                },
                sink)
            .partitions(4)
            .build();

    assertThatThrownBy(() -> processor.process(input))
        .isInstanceOf(ChunkRejectedException.class)
        .hasMessage("chunk 1: the id function failed on the event at position 2")
        .hasCause(broken);
    assertThat(sink.contents()).containsOnlyKeys("evt-1", "evt-2", "evt-3");
  }
}
