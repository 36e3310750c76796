package dev.fanout.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The example runs on its embedded API server and says what it promises. */
class NamespaceWatcherExampleTest {

  @Test
  void provisionsThreeNamespacesInParallelAndCleansOneUp() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream original = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      NamespaceWatcherExample.main(new String[] {"scale=0.2"});
    } finally {
      System.setOut(original);
    }
    String printed = out.toString(StandardCharsets.UTF_8);
    original.print(printed);

    assertThat(printed)
        .contains("namespace test101: plan tenant@1 succeeded, 6 step(s)")
        .contains("namespace test102: plan tenant@1 succeeded, 6 step(s)")
        .contains("namespace test103: plan tenant@1 succeeded, 6 step(s)")
        .contains("Marked provisioned: provisioning.fanout.dev/tenant=1 on 3 namespace(s)")
        .contains("namespace test101: plan tenant-cleanup@1 succeeded")
        .contains("provisioned=3")
        .containsPattern("test102  dns-record +\\d+- +\\d+ \\|");
  }
}
