package dev.fanout.aws;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * A second JVM's writer for {@link KubeconfigConcurrencyTest}: prints {@code ready}, waits for a
 * line on standard input, then writes one cluster per round to the kubeconfig.
 *
 * <p>Arguments: the kubeconfig path, the account id, the number of rounds.
 */
public final class KubeconfigWriterProcess {
  private KubeconfigWriterProcess() {}

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    String account = args[1];
    int rounds = Integer.parseInt(args[2]);
    KubeconfigWriter writer = KubeconfigWriter.builder(file).build();
    System.out.println("ready");
    System.out.flush();
    new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
    for (int round = 0; round < rounds; round++) {
      writer.write(List.of(KubeconfigWriterTest.cluster(account, "eu-west-1", "p" + round)));
    }
    System.out.println("done");
  }
}
