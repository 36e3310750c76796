package dev.fanout.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.testing.postgres.PostgresServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Service instances in JVMs of their own share one PostgreSQL table. Two are killed with SIGKILL
 * while holding leases; one is frozen with SIGSTOP past its leases and thawed after the others
 * finished its items. The survivor's reaper returns the dead instances' items, every item is
 * completed, and the thawed instance is refused everything it tries: it changes nothing.
 */
@ExtendWith(PostgresExtension.class)
class PostgresCrashTest {
  private static final String TABLE = "crash_item";
  private static final int ITEMS = 300;
  private final List<Instance> instances = new ArrayList<>();

  @AfterEach
  void killLeftovers() {
    for (Instance instance : instances) {
      signal("CONT", instance.process.pid());
      instance.process.destroyForcibly();
    }
  }

  @Test
  @Timeout(180)
  void killedWorkersItemsComeBackAndAFrozenWorkerChangesNothing(PostgresServer server)
      throws Exception {
    String url = server.createDatabase("crash");
    try (HikariDataSource pool = Pools.pool(url, 4)) {
      Pools.execute(pool, "DROP TABLE IF EXISTS " + TABLE, "DROP TABLE IF EXISTS processing");
      Pools.execute(
          pool,
          LeaseSchema.createTable(SqlDialect.POSTGRESQL, LeaseTable.named(TABLE))
              .toArray(String[]::new));
      Pools.execute(
          pool,
          "CREATE TABLE processing (item_id BIGINT NOT NULL, token BIGINT NOT NULL, worker TEXT NOT"
              + " NULL, UNIQUE (item_id, token))",
          "INSERT INTO " + TABLE + " (id) SELECT g FROM generate_series(1, " + ITEMS + ") g");

      Path logs = Path.of("target", "crash-test");
      Files.createDirectories(logs);
      // Leases of 6 s renewed every second, so a live instance survives stalls of up to 5 s on a
      // loaded machine; reapers every 0.3 s; 40 ms of work per item.
      Instance killedA = launch(url, "killed-a", logs);
      Instance killedB = launch(url, "killed-b", logs);
      Instance frozen = launch(url, "frozen", logs);
      for (Instance instance : List.of(killedA, killedB, frozen)) {
        instance.awaitLine("READY", Duration.ofSeconds(60));
      }
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(20))
          .until(
              () ->
                  heldBy(pool, "killed-a") > 0
                      && heldBy(pool, "killed-b") > 0
                      && heldBy(pool, "frozen") > 0);

      killedA.process.destroyForcibly(); // SIGKILL on Linux
      killedB.process.destroyForcibly();
      signal("STOP", frozen.process.pid());
      assertThat(killedA.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(killedB.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
      long heldByTheDead = heldBy(pool, "killed-a") + heldBy(pool, "killed-b");
      Map<Long, Long> frozenClaims = claimsOf(pool, "frozen");
      assertThat(heldByTheDead).isPositive();
      assertThat(frozenClaims).isNotEmpty();

      Instance survivor = launch(url, "survivor", logs);
      survivor.awaitLine("READY", Duration.ofSeconds(60));
      await()
          .atMost(Duration.ofSeconds(90))
          .pollInterval(Duration.ofMillis(50))
          .until(
              () ->
                  count(pool, "SELECT COUNT(*) FROM " + TABLE + " WHERE lease_status = 'COMPLETED'")
                      == ITEMS);

      // Everything is done; thaw the frozen instance and let it try to finish what it held.
      String before = snapshot(pool);
      signal("CONT", frozen.process.pid());
      frozen.send("stop");
      String frozenFinal = frozen.awaitLine("FINAL", Duration.ofSeconds(60));
      survivor.send("stop");
      String survivorFinal = survivor.awaitLine("FINAL", Duration.ofSeconds(60));
      assertThat(frozen.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(survivor.process.waitFor(30, TimeUnit.SECONDS)).isTrue();

      assertThat(snapshot(pool)).as("store after the frozen instance woke").isEqualTo(before);
      assertThat(counter(frozenFinal, "leaseLost")).as(frozenFinal).isEqualTo(frozenClaims.size());
      assertThat(
              counter(frozenFinal, "completed")
                  + counter(frozenFinal, "leaseLost")
                  + counter(frozenFinal, "retried")
                  + counter(frozenFinal, "failed"))
          .as("everything the frozen instance claimed ended somewhere: " + frozenFinal)
          .isLessThanOrEqualTo(counter(frozenFinal, "claimed"));
      assertThat(counter(survivorFinal, "reclaimed"))
          .as(survivorFinal)
          .isGreaterThanOrEqualTo(heldByTheDead + frozenClaims.size());
      assertThat(counter(survivorFinal, "leaseLost")).as(survivorFinal).isZero();
      for (Map.Entry<Long, Long> claim : frozenClaims.entrySet()) {
        assertThat(
                count(pool, "SELECT lease_token FROM " + TABLE + " WHERE id = " + claim.getKey()))
            .as("token of item %d, frozen with token %d", claim.getKey(), claim.getValue())
            .isGreaterThan(claim.getValue());
      }
      // Every item completed once, by a claim that recorded its processing.
      assertThat(
              count(pool, "SELECT COUNT(*) FROM " + TABLE + " WHERE lease_status <> 'COMPLETED'"))
          .isZero();
      assertThat(
              count(
                  pool,
                  "SELECT COUNT(*) FROM "
                      + TABLE
                      + " i JOIN processing p"
                      + " ON p.item_id = i.id AND p.token = i.lease_token"))
          .isEqualTo(ITEMS);
      // Extra processing only by an instance that lost its claim: a killed one, or the frozen one
      // for a claim it held when it was frozen (stopped after recording its work, before
      // completing). The survivor never lost a claim, so none of its records is stale.
      assertThat(staleProcessingBy(pool, "survivor")).isEmpty();
      assertThat(frozenClaims).containsAllEntriesOf(staleProcessingBy(pool, "frozen"));
      assertThat(
              count(
                  pool,
                  "SELECT COUNT(*) FROM processing WHERE worker NOT LIKE 'killed-%'"
                      + " AND worker NOT LIKE 'frozen-%' AND worker NOT LIKE 'survivor-%'"))
          .isZero();
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static final class Instance {
    final Process process;
    final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    final Writer stdin;

    Instance(Process process) {
      this.process = process;
      this.stdin = process.outputWriter(StandardCharsets.UTF_8);
      Thread.ofPlatform()
          .daemon()
          .start(
              () -> {
                try (BufferedReader out = process.inputReader(StandardCharsets.UTF_8)) {
                  String line;
                  while ((line = out.readLine()) != null) {
                    lines.add(line);
                  }
                } catch (IOException e) {
                  // the process died
                }
              });
    }

    String awaitLine(String prefix, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (line == null) {
          throw new AssertionError(
              "no line starting with "
                  + prefix
                  + " from pid "
                  + process.pid()
                  + " within "
                  + timeout
                  + "; alive: "
                  + process.isAlive());
        }
        if (line.startsWith(prefix)) {
          return line;
        }
      }
    }

    void send(String line) throws IOException {
      stdin.write(line + "\n");
      stdin.flush();
    }
  }

  private Instance launch(String url, String name, Path logs) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command =
        List.of(
            java,
            "-Xmx128m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-cp",
            System.getProperty("java.class.path"),
            ClaimWorkerProcess.class.getName(),
            url,
            TABLE,
            name,
            "2", // concurrency
            "4", // batch size
            "6000", // lease ms
            "1000", // heartbeat ms
            "300", // reaper ms
            "40"); // work ms per item
    Process process =
        new ProcessBuilder(command).redirectError(logs.resolve(name + ".log").toFile()).start();
    Instance instance = new Instance(process);
    instances.add(instance);
    return instance;
  }

  private static void signal(String signal, long pid) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start();
      kill.waitFor(10, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static long heldBy(HikariDataSource pool, String instance) {
    return count(
        pool,
        "SELECT COUNT(*) FROM "
            + TABLE
            + " WHERE lease_status = 'CLAIMED' AND lease_owner LIKE '"
            + instance
            + "-%'");
  }

  /** The items {@code instance} holds now, with their tokens. */
  private static Map<Long, Long> claimsOf(HikariDataSource pool, String instance)
      throws SQLException {
    return itemsAndTokens(
        pool,
        "SELECT id, lease_token FROM "
            + TABLE
            + " WHERE lease_status = 'CLAIMED' AND lease_owner LIKE '"
            + instance
            + "-%'");
  }

  /**
   * The items {@code instance} recorded work for under a claim that is not the item's last one,
   * with that claim's token.
   */
  private static Map<Long, Long> staleProcessingBy(HikariDataSource pool, String instance)
      throws SQLException {
    return itemsAndTokens(
        pool,
        "SELECT p.item_id, p.token FROM processing p JOIN "
            + TABLE
            + " i ON i.id = p.item_id WHERE p.token <> i.lease_token AND p.worker LIKE '"
            + instance
            + "-%'");
  }

  private static Map<Long, Long> itemsAndTokens(HikariDataSource pool, String sql)
      throws SQLException {
    Map<Long, Long> tokens = new TreeMap<>();
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        tokens.put(rs.getLong(1), rs.getLong(2));
      }
    }
    return tokens;
  }

  /** Every item's state and token, and every processing record, as text. */
  private static String snapshot(HikariDataSource pool) throws SQLException {
    StringBuilder text = new StringBuilder();
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      try (ResultSet rs =
          s.executeQuery(
              "SELECT id, lease_status, lease_token, lease_owner FROM " + TABLE + " ORDER BY id")) {
        while (rs.next()) {
          text.append(rs.getLong(1))
              .append(' ')
              .append(rs.getString(2))
              .append(' ')
              .append(rs.getLong(3))
              .append(' ')
              .append(rs.getString(4))
              .append('\n');
        }
      }
      try (ResultSet rs =
          s.executeQuery("SELECT item_id, token, worker FROM processing ORDER BY item_id, token")) {
        while (rs.next()) {
          text.append("p ")
              .append(rs.getLong(1))
              .append(' ')
              .append(rs.getLong(2))
              .append(' ')
              .append(rs.getString(3))
              .append('\n');
        }
      }
    }
    return text.toString();
  }

  private static long count(HikariDataSource pool, String sql) {
    return Pools.count(pool, sql);
  }

  private static long counter(String summary, String name) {
    Matcher m = Pattern.compile("\\b" + name + "=(\\d+)").matcher(summary);
    assertThat(m.find()).as("%s in %s", name, summary).isTrue();
    return Long.parseLong(m.group(1));
  }
}
