package dev.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import dev.fanout.internal.Cancelled;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.NoSuchElementException;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class FanOutReportTest {

  /** Outcome codes: 0 success, 1 failure, 2 cancelled, 3 missing. */
  @Property
  void countsAlwaysAddUp(
      @ForAll @Size(max = 300) List<@IntRange(min = 0, max = 3) Integer> outcomes,
      @ForAll @IntRange(min = 0, max = 100_000) int elapsedMillis) {
    List<Result<Integer, Integer>> results = new ArrayList<>();
    for (int key = 0; key < outcomes.size(); key++) {
      switch (outcomes.get(key)) {
        case 0 -> results.add(new Result.Success<>(key, key, 1, Duration.ZERO));
        case 1 -> results.add(new Result.Failure<>(key, new IllegalStateException(), 2, Duration.ZERO));
        case 2 -> results.add(new Result.Failure<>(key, new Cancelled("c"), 0, Duration.ZERO));
        default -> {}
      }
    }
    FanOutReport<Integer, Integer> report =
        FanOutReport.of(results, outcomes.size(), Duration.ofMillis(elapsedMillis));

    long successes = outcomes.stream().filter(o -> o == 0).count();
    long failures = outcomes.stream().filter(o -> o == 1 || o == 2).count();
    long cancelled = outcomes.stream().filter(o -> o == 2).count();
    assertThat(report.succeeded()).isEqualTo(successes);
    assertThat(report.failed()).isEqualTo(failures);
    assertThat(report.cancelled()).isEqualTo(cancelled);
    assertThat(report.succeeded() + report.failed() + report.missing()).isEqualTo(report.total());
    assertThat(report.allSucceeded()).isEqualTo(successes == outcomes.size());
    assertThat(report.values().keySet()).isEqualTo(report.successes().keySet());
    assertThat(report.errors().keySet()).isEqualTo(report.failures().keySet());
    FanOutReport<Integer, Integer> indexed =
        indexed(results, outcomes.size(), Duration.ofMillis(elapsedMillis));
    assertThat(indexed).isEqualTo(report);
    assertThat(List.copyOf(indexed.values().entrySet()))
        .containsExactlyElementsOf(report.values().entrySet());
    assertThat(List.copyOf(indexed.failures().entrySet()))
        .containsExactlyElementsOf(report.failures().entrySet());
    assertThat(report.summary())
        .isEqualTo(
            String.format(
                Locale.ROOT,
                "%d succeeded, %d failed of %d in %.1f s",
                successes,
                failures,
                outcomes.size(),
                elapsedMillis / 1000.0));
  }

  @Test
  void summaryInTheScenariosStyle() {
    List<Result<String, Integer>> results = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      results.add(new Result.Success<>("k" + i, i, 1, Duration.ZERO));
    }
    results.add(new Result.Failure<>("bad", new IllegalStateException(), 4, Duration.ZERO));
    assertThat(FanOutReport.of(results, 13, Duration.ofMillis(2100)).summary())
        .isEqualTo("12 succeeded, 1 failed of 13 in 2.1 s");
  }

  /** The report a worker pool builds over its own index of results by key. */
  private static <K, V> FanOutReport<K, V> indexed(
      List<Result<K, V>> results, int total, Duration elapsed) {
    Map<Object, Result<K, V>> byKey = new HashMap<>();
    results.forEach(result -> byKey.put(result.key(), result));
    return FanOutReport.indexed(results, byKey::get, total, elapsed);
  }

  @Test
  void valuesAndErrorsAreReadOnlyViewsInCompletionOrder() {
    for (boolean viaIndex : List.of(false, true)) {
      valuesAndErrorsAreReadOnlyViewsInCompletionOrder(viaIndex);
    }
  }

  private void valuesAndErrorsAreReadOnlyViewsInCompletionOrder(boolean viaIndex) {
    IllegalStateException boom = new IllegalStateException("boom");
    List<Result<String, Integer>> results =
        List.of(
            new Result.Success<>("b", 2, 1, Duration.ZERO),
            new Result.Failure<>("x", boom, 3, Duration.ZERO),
            new Result.Success<>("a", null, 1, Duration.ZERO),
            new Result.Success<>("c", 3, 1, Duration.ZERO));
    FanOutReport<String, Integer> report =
        viaIndex ? indexed(results, 4, Duration.ZERO) : FanOutReport.of(results, 4, Duration.ZERO);

    assertThat(report.values()).containsExactly(entry("b", 2), entry("a", null), entry("c", 3));
    assertThat(report.values().get("c")).isEqualTo(3);
    assertThat(report.values().containsKey("a")).isTrue();
    assertThat(report.values().get("a")).isNull();
    assertThat(report.values().get("x")).isNull();
    Map<String, Integer> copy = new HashMap<>();
    copy.put("a", null);
    copy.put("b", 2);
    copy.put("c", 3);
    assertThat(report.values()).isEqualTo(copy).hasSameHashCodeAs(copy);
    assertThat(report.errors()).containsExactly(entry("x", boom));
    assertThat(report.errors().get("b")).isNull();
    assertThat(report.errors().containsKey("b")).isFalse();
    assertThat(report.successes().get("x")).isNull();
    assertThat(report.successes().get("nobody")).isNull();
    assertThat(report.successes().keySet()).containsExactly("b", "a", "c");
    Iterator<Map.Entry<String, Throwable>> errors = report.errors().entrySet().iterator();
    assertThat(errors.next()).isEqualTo(entry("x", boom));
    assertThat(errors.hasNext()).isFalse();
    assertThatThrownBy(errors::next).isInstanceOf(NoSuchElementException.class);
    assertThat(report.failures().get("x").attempts()).isEqualTo(3);
    assertThat(report.succeeded()).isEqualTo(3);
    assertThat(report.failed()).isEqualTo(1);
    assertThatThrownBy(() -> report.values().put("d", 4))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> report.errors().clear())
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> report.values().entrySet().iterator().next().setValue(9))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void rejectsInconsistentReports() {
    Result<String, Integer> a = new Result.Success<>("a", 1, 1, Duration.ZERO);
    assertThatThrownBy(() -> FanOutReport.of(List.of(a, a), 2, Duration.ZERO))
        .hasMessage("key a has more than one result");
    assertThatThrownBy(() -> FanOutReport.of(List.of(a), 0, Duration.ZERO))
        .hasMessage("more results (1) than total 0");
    assertThatThrownBy(() -> FanOutReport.of(List.of(), -1, Duration.ZERO))
        .hasMessage("total must not be negative, was -1");
  }
}
