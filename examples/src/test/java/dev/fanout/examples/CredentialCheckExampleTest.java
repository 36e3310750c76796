package dev.fanout.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fanout.lease.LeaseCounts;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CredentialCheckExampleTest {

  @Test
  void checksEveryCredentialOnceAndPrintsStatusAndCounts() throws Exception {
    CredentialCheckExample.Settings settings =
        CredentialCheckExample.Settings.from(
            new String[] {"--credentials=30", "latencyMs=20", "--pollingIntervalMs=50"},
            Map.of("CONCURRENCY", "4", "CREDENTIAL_CHECK_BATCH_SIZE", "2"));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    CredentialCheckExample.Outcome outcome =
        CredentialCheckExample.run(settings, new PrintStream(bytes, true, StandardCharsets.UTF_8));

    String out = bytes.toString(StandardCharsets.UTF_8);
    assertThat(outcome.counts()).isEqualTo(new LeaseCounts(0, 0, 30, 0));
    assertThat(outcome.valid()).isEqualTo(26);
    assertThat(outcome.invalid()).isEqualTo(4); // 7, 14, 21, 28
    assertThat(outcome.status().retried()).isEqualTo(1); // credential 5 timed out once
    assertThat(outcome.status().concurrency()).isEqualTo(4);
    assertThat(out)
        .contains("Checking 30 credentials on H2: concurrency=4 batchSize=2 pollingInterval=50 ms")
        .contains("concurrency=4 activeWorkers=")
        .contains("30 credentials checked in ")
        .contains(": 26 valid, 4 invalid; completed=30 failed=0 retried=1 leaseLost=0");
  }

  @Test
  void defaultsAreTheOriginalCheckersAndBadValuesAreNamed() {
    CredentialCheckExample.Settings defaults =
        CredentialCheckExample.Settings.from(new String[0], Map.of());
    assertThat(defaults.concurrency()).isEqualTo(3);
    assertThat(defaults.batchSize()).isEqualTo(3);
    assertThat(defaults.pollingIntervalMs()).isEqualTo(1000);
    assertThat(defaults.staleTimeoutMinutes()).isEqualTo(10);
    assertThat(defaults.jdbcUrl()).startsWith("jdbc:h2:mem:");

    assertThatThrownBy(
            () -> CredentialCheckExample.Settings.from(new String[] {"concurrency=0"}, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("concurrency must be at least 1, was 0");
    assertThatThrownBy(
            () -> CredentialCheckExample.Settings.from(new String[0], Map.of("BATCH_SIZE", "many")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("batchSize must be a whole number, was 'many'");
  }
}
