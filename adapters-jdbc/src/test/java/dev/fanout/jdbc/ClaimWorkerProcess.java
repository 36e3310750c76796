package dev.fanout.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.lease.Claim;
import dev.fanout.lease.ClaimWorkers;
import dev.fanout.lease.ClaimWorkersConfig;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;

/**
 * One service instance for {@link PostgresCrashTest}, run in a JVM of its own: claim workers on a
 * PostgreSQL table. Each item takes {@code workMillis}, then is recorded in {@code processing}
 * with its token — fenced: only while the claim is still current. Prints {@code READY} once
 * started and {@code FINAL <status>} when told {@code stop} on standard input (or at its end).
 *
 * <p>Arguments: jdbcUrl table name concurrency batchSize leaseMillis heartbeatMillis reaperMillis
 * workMillis.
 */
public final class ClaimWorkerProcess {
  private ClaimWorkerProcess() {}

  public static void main(String[] args) throws Exception {
    String url = args[0];
    String table = args[1];
    String name = args[2];
    int concurrency = Integer.parseInt(args[3]);
    int batchSize = Integer.parseInt(args[4]);
    Duration lease = Duration.ofMillis(Long.parseLong(args[5]));
    Duration heartbeat = Duration.ofMillis(Long.parseLong(args[6]));
    Duration reaper = Duration.ofMillis(Long.parseLong(args[7]));
    long workMillis = Long.parseLong(args[8]);

    try (HikariDataSource pool = Pools.pool(url, concurrency + 4)) {
      JdbcClaimLeaseRepository<Long> repository =
          JdbcClaimLeaseRepository.forIds(pool, Long.class).table(LeaseTable.named(table)).build();
      String record =
          "INSERT INTO processing (item_id, token, worker) SELECT ?, ?, ? WHERE EXISTS (SELECT 1"
              + " FROM "
              + table
              + " WHERE id = ? AND lease_token = ? AND lease_status = 'CLAIMED')";
      ClaimWorkers<Long> workers =
          ClaimWorkers.builder(
                  repository,
                  (Claim<Long> claim) -> {
                    Thread.sleep(workMillis); // the work
                    try (Connection c = pool.getConnection();
                        PreparedStatement ps = c.prepareStatement(record)) {
                      ps.setLong(1, claim.item());
                      ps.setLong(2, claim.token());
                      ps.setString(3, claim.workerId());
                      ps.setLong(4, claim.item());
                      ps.setLong(5, claim.token());
                      ps.executeUpdate();
                    }
                  })
              .name(name)
              .workerId(name + "-" + ProcessHandle.current().pid())
              .config(
                  ClaimWorkersConfig.builder()
                      .concurrency(concurrency)
                      .batchSize(batchSize)
                      .pollInterval(Duration.ofMillis(20))
                      .maxPollInterval(Duration.ofMillis(200))
                      .leaseDuration(lease)
                      .heartbeatInterval(heartbeat)
                      .reaperInterval(reaper)
                      .retryDelay(Duration.ZERO, Duration.ZERO)
                      .shutdownTimeout(Duration.ofSeconds(10))
                      .build())
              .build();
      workers.start();
      System.out.println("READY");
      System.out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null && !line.equals("stop")) {
        // wait for "stop"
      }
      workers.stop();
      System.out.println("FINAL " + workers.status().summary());
      System.out.flush();
    }
  }
}
