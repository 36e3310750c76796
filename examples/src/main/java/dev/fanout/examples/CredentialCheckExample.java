package dev.fanout.examples;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.fanout.jdbc.JdbcClaimLeaseRepository;
import dev.fanout.jdbc.LeaseSchema;
import dev.fanout.jdbc.LeaseTable;
import dev.fanout.jdbc.SqlDialect;
import dev.fanout.lease.Claim;
import dev.fanout.lease.ClaimWorkers;
import dev.fanout.lease.ClaimWorkersConfig;
import dev.fanout.lease.ClaimWorkersStatus;
import dev.fanout.lease.LeaseCounts;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Credential checking on fanout: stored credentials are leased to N workers, each verified
 * with simulated latency, the verdict written back fenced by the claim's token, and status lines
 * printed while it runs.
 *
 * <p>It creates a {@code credential} table (dropping an earlier one), adds the lease columns to it
 * with {@link LeaseSchema#addLeaseColumns} — leasing the rows of an existing table — inserts the
 * credentials, and runs {@link ClaimWorkers} over a {@link JdbcClaimLeaseRepository} until every
 * credential is checked. Every seventh credential has a wrong password; credential 5's site times
 * out on the first try, so it is retried. Embedded H2 by default; give {@code jdbcUrl} for
 * PostgreSQL (a scratch database: the table is recreated).
 *
 * <p>Settings, as {@code name=value} or {@code --name=value} arguments, or from the environment
 * (the name in capitals, with or without the prefix {@code CREDENTIAL_CHECK_}):
 *
 * <table>
 *   <caption>Settings</caption>
 *   <tr><th>argument</th><th>environment</th><th>default</th></tr>
 *   <tr><td>concurrency</td><td>CONCURRENCY</td><td>3</td></tr>
 *   <tr><td>batchSize</td><td>BATCH_SIZE</td><td>3</td></tr>
 *   <tr><td>pollingIntervalMs</td><td>POLLING_INTERVAL_MS</td><td>1000</td></tr>
 *   <tr><td>staleTimeoutMinutes (the lease)</td><td>STALE_TIMEOUT_MINUTES</td><td>10</td></tr>
 *   <tr><td>credentials</td><td>CREDENTIALS</td><td>20</td></tr>
 *   <tr><td>latencyMs (per check)</td><td>LATENCY_MS</td><td>250</td></tr>
 *   <tr><td>jdbcUrl, user, password</td><td>JDBC_URL, JDBC_USER, JDBC_PASSWORD</td><td>embedded H2</td></tr>
 * </table>
 *
 * <pre>
 * mvn -B -q -Pexamples -DskipTests verify -Dexample=credential-check
 * CONCURRENCY=5 java -cp ... dev.fanout.examples.CredentialCheckExample --credentials=40
 * </pre>
 */
public final class CredentialCheckExample {
  private CredentialCheckExample() {}

  /** A stored credential, as the workers get it from the claimed row. */
  record Credential(long id, String username, String site) {}

  /** The example's settings. */
  record Settings(
      int concurrency,
      int batchSize,
      int pollingIntervalMs,
      int staleTimeoutMinutes,
      int credentials,
      int latencyMs,
      String jdbcUrl,
      String user,
      String password) {

    static Settings from(String[] args, Map<String, String> env) {
      String url =
          text(
              args,
              env,
              "jdbcUrl",
              "JDBC_URL",
              "jdbc:h2:mem:credentials-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
      return new Settings(
          number(args, env, "concurrency", "CONCURRENCY", 3, 1),
          number(args, env, "batchSize", "BATCH_SIZE", 3, 1),
          number(args, env, "pollingIntervalMs", "POLLING_INTERVAL_MS", 1000, 1),
          number(args, env, "staleTimeoutMinutes", "STALE_TIMEOUT_MINUTES", 10, 1),
          number(args, env, "credentials", "CREDENTIALS", 20, 1),
          number(args, env, "latencyMs", "LATENCY_MS", 250, 0),
          url,
          text(args, env, "user", "JDBC_USER", url.startsWith("jdbc:h2") ? "sa" : "postgres"),
          text(args, env, "password", "JDBC_PASSWORD", ""));
    }
  }

  /** What a run did. */
  record Outcome(
      ClaimWorkersStatus status, LeaseCounts counts, long valid, long invalid, Duration elapsed) {}

  public static void main(String[] args) throws Exception {
    run(Settings.from(args, System.getenv()), System.out);
  }

  static Outcome run(Settings settings, PrintStream out) throws Exception {
    HikariConfig hikari = new HikariConfig();
    hikari.setJdbcUrl(settings.jdbcUrl());
    hikari.setUsername(settings.user());
    hikari.setPassword(settings.password());
    hikari.setMaximumPoolSize(settings.concurrency() + 4);
    try (HikariDataSource dataSource = new HikariDataSource(hikari)) {
      SqlDialect dialect = prepare(dataSource, settings.credentials());
      JdbcClaimLeaseRepository<Credential> repository =
          JdbcClaimLeaseRepository.forRows(
                  dataSource,
                  row ->
                      new Credential(
                          row.getLong("id"), row.getString("username"), row.getString("site")),
                  Credential::id)
              .table(LeaseTable.named("credential"))
              .dialect(dialect)
              .build();
      ClaimWorkersConfig config =
          ClaimWorkersConfig.builder()
              .concurrency(settings.concurrency())
              .batchSize(settings.batchSize())
              .pollInterval(Duration.ofMillis(settings.pollingIntervalMs()))
              .leaseDuration(Duration.ofMinutes(settings.staleTimeoutMinutes()))
              .retryDelay(Duration.ZERO, Duration.ZERO)
              .build();
      out.printf(
          "Checking %d credentials on %s: concurrency=%d batchSize=%d pollingInterval=%d ms lease"
              + " (stale timeout)=%d min%n",
          settings.credentials(),
          dialect,
          settings.concurrency(),
          settings.batchSize(),
          settings.pollingIntervalMs(),
          settings.staleTimeoutMinutes());

      Set<Long> timedOutOnce = ConcurrentHashMap.newKeySet();
      long start = System.nanoTime();
      ClaimWorkers<Credential> workers =
          ClaimWorkers.builder(
                  repository,
                  (Claim<Credential> claim) ->
                      check(dataSource, claim, settings.latencyMs(), timedOutOnce))
              .name("credential-check")
              .config(config)
              .build();
      workers.start();
      try {
        // Waits for the store to run dry (nothing pending, nothing claimed), with a status line
        // every half second and one when it is drained.
        boolean drained;
        do {
          drained = workers.awaitDrained(Duration.ofMillis(500));
          out.printf(Locale.ROOT, "[%5.1f s] %s%n", seconds(start), workers.status().summary());
        } while (!drained);
      } finally {
        workers.stop();
      }
      Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
      ClaimWorkersStatus status = workers.status();
      LeaseCounts counts = repository.counts();
      long valid = count(dataSource, "SELECT COUNT(*) FROM credential WHERE valid");
      long invalid = count(dataSource, "SELECT COUNT(*) FROM credential WHERE NOT valid");
      out.printf(
          Locale.ROOT,
          "%d credentials checked in %.1f s: %d valid, %d invalid; completed=%d failed=%d"
              + " retried=%d leaseLost=%d%n",
          counts.completed(),
          elapsed.toNanos() / 1e9,
          valid,
          invalid,
          status.completed(),
          status.failed(),
          status.retried(),
          status.leaseLost());
      return new Outcome(status, counts, valid, invalid, elapsed);
    }
  }

  /** Recreates the credential table, adds the lease columns, inserts the credentials. */
  private static SqlDialect prepare(HikariDataSource dataSource, int credentials)
      throws SQLException {
    SqlDialect dialect;
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      dialect =
          c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT).contains("postgres")
              ? SqlDialect.POSTGRESQL
              : SqlDialect.H2;
      s.execute("DROP TABLE IF EXISTS credential");
      s.execute(
          "CREATE TABLE credential (id BIGINT PRIMARY KEY, username VARCHAR(100) NOT NULL, site"
              + " VARCHAR(200) NOT NULL, valid BOOLEAN, checked_token BIGINT NOT NULL DEFAULT 0)");
    }
    LeaseSchema.execute(
        dataSource, LeaseSchema.addLeaseColumns(dialect, LeaseTable.named("credential")));
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("INSERT INTO credential (id, username, site) VALUES (?, ?, ?)")) {
      for (int i = 1; i <= credentials; i++) {
        ps.setLong(1, i);
        ps.setString(2, "user" + i + "@example.com");
        ps.setString(3, "https://portal-" + (i % 4) + ".example.com/login");
        ps.addBatch();
      }
      ps.executeBatch();
    }
    return dialect;
  }

  /** Logs in to the site (simulated) and records the verdict, fenced by the claim's token. */
  private static void check(
      HikariDataSource dataSource, Claim<Credential> claim, int latencyMs, Set<Long> timedOutOnce)
      throws Exception {
    Credential credential = claim.item();
    if (latencyMs > 0) {
      Thread.sleep(ThreadLocalRandom.current().nextInt(latencyMs / 2, latencyMs * 3 / 2 + 1));
    }
    if (credential.id() == 5 && timedOutOnce.add(credential.id())) {
      throw new java.net.SocketTimeoutException(credential.site() + " did not answer");
    }
    boolean valid = credential.id() % 7 != 0;
    // Stop here if the lease was lost while we were checking (the workers interrupt the sleep
    // above too); the fenced write below covers the race that remains.
    claim.checkLease();
    // A worker that overran its lease cannot overwrite a newer verdict: the token must grow.
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "UPDATE credential SET valid = ?, checked_token = ? WHERE id = ? AND checked_token"
                    + " < ?")) {
      ps.setBoolean(1, valid);
      ps.setLong(2, claim.token());
      ps.setLong(3, credential.id());
      ps.setLong(4, claim.token());
      ps.executeUpdate();
    }
  }

  private static long count(HikariDataSource dataSource, String sql) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  // ---------------------------------------------------------------------------------------------
  // Settings: argument, then environment (plain or with the CREDENTIAL_CHECK_ prefix), then default.

  private static String text(
      String[] args, Map<String, String> env, String name, String envName, String fallback) {
    for (String arg : args) {
      String plain = arg.startsWith("--") ? arg.substring(2) : arg;
      if (plain.startsWith(name + "=")) {
        return plain.substring(name.length() + 1);
      }
    }
    String value = env.get("CREDENTIAL_CHECK_" + envName);
    if (value == null) {
      value = env.get(envName);
    }
    return value == null || value.isBlank() ? fallback : value;
  }

  private static int number(
      String[] args, Map<String, String> env, String name, String envName, int fallback, int min) {
    String value = text(args, env, name, envName, Integer.toString(fallback));
    int parsed;
    try {
      parsed = Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a whole number, was '" + value + "'", e);
    }
    if (parsed < min) {
      throw new IllegalArgumentException(name + " must be at least " + min + ", was " + parsed);
    }
    return parsed;
  }
}
