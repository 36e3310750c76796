package dev.fanout.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writers of one kubeconfig at the same time, in one JVM and in two. */
class KubeconfigConcurrencyTest {
  static final int ROUNDS = 20;

  @TempDir Path dir;

  @Test
  void twoWritersAtOnceLoseNoEntry() throws Exception {
    Path file = dir.resolve("config");
    KubeconfigWriter writer = KubeconfigWriter.builder(file).build();
    CyclicBarrier start = new CyclicBarrier(2);
    try (ExecutorService threads = Executors.newFixedThreadPool(2)) {
      for (int round = 0; round < ROUNDS; round++) {
        List<Future<KubeconfigUpdate>> writes = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
          EksCluster cluster = KubeconfigWriterTest.cluster("11111111111" + w, "eu-west-1", "r" + round);
          writes.add(
              threads.submit(
                  () -> {
                    start.await();
                    return writer.write(List.of(cluster));
                  }));
        }
        for (Future<KubeconfigUpdate> write : writes) {
          assertThat(write.get().added()).hasSize(1);
        }
        Map<String, Object> config = KubeconfigWriterTest.read(file);
        assertThat(KubeconfigWriterTest.list(config, "contexts"))
            .as("contexts after round %d", round)
            .hasSize(2 * (round + 1));
        assertThat(KubeconfigWriterTest.list(config, "clusters")).hasSize(2 * (round + 1));
        assertThat(KubeconfigWriterTest.list(config, "users")).hasSize(2 * (round + 1));
      }
    }
  }

  @Test
  void twoJvmsWritingAtOnceLoseNoEntry() throws Exception {
    Path file = dir.resolve("config");
    int rounds = 30;
    String java = ProcessHandle.current().info().command().orElse("java");
    String classPath =
        String.join(
            File.pathSeparator,
            System.getProperty("java.class.path"),
            Path.of(KubeconfigWriter.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString(),
            Path.of(KubeconfigWriterProcess.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
    List<Process> processes = new ArrayList<>();
    try {
      for (String account : List.of("333333333333", "444444444444")) {
        processes.add(
            new ProcessBuilder(java, "-cp", classPath, KubeconfigWriterProcess.class.getName(), file.toString(), account, String.valueOf(rounds))
                .redirectErrorStream(true)
                .start());
      }
      List<BufferedReader> outputs = new ArrayList<>();
      for (Process p : processes) {
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("ready");
        outputs.add(out);
      }
      for (Process p : processes) { // both are ready: start them together
        OutputStream in = p.getOutputStream();
        in.write("go\n".getBytes(StandardCharsets.UTF_8));
        in.flush();
      }
      for (int i = 0; i < processes.size(); i++) {
        assertThat(processes.get(i).waitFor(60, TimeUnit.SECONDS)).isTrue();
        StringBuilder rest = new StringBuilder();
        for (String line; (line = outputs.get(i).readLine()) != null; ) {
          rest.append(line).append('\n');
        }
        assertThat(processes.get(i).exitValue()).as("writer %d: %s", i, rest).isZero();
      }
    } finally {
      processes.forEach(Process::destroyForcibly);
    }
    Map<String, Object> config = KubeconfigWriterTest.read(file);
    assertThat(KubeconfigWriterTest.list(config, "contexts")).hasSize(2 * rounds);
    assertThat(KubeconfigWriterTest.list(config, "users")).hasSize(2 * rounds);
    assertThat(listing(dir)).containsExactly("config");
  }

  @Test
  void aWriterWaitsForTheLockAtMostTheLockTimeoutAndSaysWhichFileHoldsIt() throws Exception {
    Path file = dir.resolve("config");
    Path lock = dir.resolve("config.lock");
    Files.writeString(lock, "held by kubectl\n");
    KubeconfigWriter writer = KubeconfigWriter.builder(file).lockTimeout(Duration.ofMillis(200)).build();
    long start = System.nanoTime();
    assertThatThrownBy(() -> writer.write(List.of(KubeconfigWriterTest.cluster("111111111111", "eu-west-1", "web"))))
        .isInstanceOf(IOException.class)
        .hasMessageStartingWith("cannot lock " + file + ": " + lock + " is held by another writer")
        .hasMessageContaining("gave up after 200 ms");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
    assertThat(file).doesNotExist();
    assertThat(Files.readString(lock)).isEqualTo("held by kubectl\n"); // not ours to remove
  }

  @Test
  void aLockLeftByAWriterThatDiedIsRemovedOnceStale() throws Exception {
    Path file = dir.resolve("config");
    Path lock = dir.resolve("config.lock");
    Files.writeString(lock, "pid 1 crashed\n");
    Files.setLastModifiedTime(lock, FileTime.from(Instant.now().minus(Duration.ofMinutes(2))));
    KubeconfigUpdate update =
        KubeconfigWriter.builder(file)
            .lockTimeout(Duration.ZERO)
            .build()
            .write(List.of(KubeconfigWriterTest.cluster("111111111111", "eu-west-1", "web")));
    assertThat(update.written()).isTrue();
    assertThat(listing(dir)).containsExactly("config");

    // A lock younger than the stale age is respected.
    Files.writeString(lock, "pid 2 busy\n");
    Files.setLastModifiedTime(lock, FileTime.from(Instant.now().minus(Duration.ofSeconds(5))));
    KubeconfigWriter patient =
        KubeconfigWriter.builder(file).staleLockAge(Duration.ofSeconds(30)).lockTimeout(Duration.ZERO).build();
    assertThatThrownBy(() -> patient.write(List.of(KubeconfigWriterTest.cluster("111111111111", "eu-west-1", "api"))))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("A lock older than 30 s is removed as stale");
  }

  @Test
  void theFilesPermissionsAreKept() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        FileSystems.getDefault().supportedFileAttributeViews().contains("posix"), "POSIX file system");
    Path file = dir.resolve("config");
    KubeconfigWriter writer = KubeconfigWriter.builder(file).build();
    writer.write(List.of(KubeconfigWriterTest.cluster("111111111111", "eu-west-1", "web")));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r-----"));
    writer.write(List.of(KubeconfigWriterTest.cluster("111111111111", "eu-west-1", "api")));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-r-----");
    assertThat(KubeconfigWriterTest.list(KubeconfigWriterTest.read(file), "contexts")).hasSize(2);
  }

  @Test
  void lockSettingsAreChecked() {
    assertThatThrownBy(() -> KubeconfigWriter.builder(dir).lockTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("lockTimeout must not be negative, was PT-1S");
    assertThatThrownBy(() -> KubeconfigWriter.builder(dir).staleLockAge(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("staleLockAge must be positive, was PT0S");
  }

  private static List<String> listing(Path directory) throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }
}
