package dev.fanout.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The AWS examples run end to end against their embedded fake AWS, at a small size. */
class AwsExamplesTest {

  static String run(ThrowingMain main, String... args) throws Exception {
    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      main.run(args);
    } finally {
      System.setOut(original);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  @FunctionalInterface
  interface ThrowingMain {
    void run(String[] args) throws Exception;
  }

  @Test
  void accountScan() throws Exception {
    String out = run(AccountScanExample::main, "accounts=4", "latencyMs=5", "--regions", "eu-west-1,us-east-1");
    assertThat(out)
        .contains("sequential: ")
        .contains("parallel:   ")
        .contains("(6 of 8 account-regions scanned): 3 successful, 1 errors")
        .contains("kubeconfig ")
        .containsPattern("sequential [0-9.]+ s, parallel [0-9.]+ s");
  }

  @Test
  void recipients() throws Exception {
    String out = run(RecipientsExample::main, "customers=5", "latencyMs=30");
    assertThat(out)
        .contains("from 5 customers (4 successful, 1 errors)")
        .containsPattern("sequential [0-9.]+ s, parallel [0-9.]+ s");
  }
}
