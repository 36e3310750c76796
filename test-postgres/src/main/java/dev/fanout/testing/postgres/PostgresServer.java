package dev.fanout.testing.postgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A throwaway PostgreSQL server for tests and benchmarks, started from the PostgreSQL server
 * binaries installed on the machine ({@code initdb}, {@code pg_ctl}) into a temporary directory,
 * listening on 127.0.0.1 only, on a free port, with durability switched off for speed ({@code
 * fsync}, {@code synchronous_commit} and {@code full_page_writes} off).
 *
 * <p>Binaries are looked up in {@code $FANOUT_PG_BIN} (or the system property {@code
 * fanout.pg.bin}), then on the {@code PATH}, then in {@code /usr/lib/postgresql/<version>/bin}
 * (newest first). {@code initdb} refuses to run as root, so when the JVM runs as root the server
 * runs as the {@code postgres} system user ({@code $FANOUT_PG_USER} to choose another) through
 * {@code runuser}. If no server can be started, {@link #start()} throws with the server's log: a
 * test that needs PostgreSQL fails loudly instead of skipping.
 *
 * {@snippet :
 * PostgresServer pg = PostgresServer.shared();   // one per JVM, stopped when the JVM exits
 * try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), pg.user(), "")) { ... }
 * }
 */
public final class PostgresServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PostgresServer.class);
  private static final ReentrantLock SHARED_LOCK = new ReentrantLock();
  private static @Nullable PostgresServer shared;

  private final Path binDir;
  private final Path baseDir;
  private final Path dataDir;
  private final @Nullable String runAs;
  private final int port;
  private final ReentrantLock lock = new ReentrantLock();
  private boolean running;
  private boolean closed;

  private PostgresServer(Path binDir, Path baseDir, @Nullable String runAs, int port) {
    this.binDir = binDir;
    this.baseDir = baseDir;
    this.dataDir = baseDir.resolve("data");
    this.runAs = runAs;
    this.port = port;
  }

  /**
   * The server shared by everything in this JVM, started on first use and stopped (its files
   * deleted) when the JVM exits.
   */
  public static PostgresServer shared() {
    SHARED_LOCK.lock();
    try {
      if (shared == null || shared.closed) {
        PostgresServer server = start();
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "fanout-postgres-shutdown"));
        shared = server;
      }
      return shared;
    } finally {
      SHARED_LOCK.unlock();
    }
  }

  /**
   * Starts a new server of its own; {@link #close()} stops it and deletes its files.
   *
   * @throws IllegalStateException if no binaries are found or the server does not start
   */
  public static PostgresServer start() {
    Path bin = findBinaries();
    IllegalStateException last = null;
    for (int tries = 0; tries < 3; tries++) {
      Path base = null;
      try {
        base = Files.createTempDirectory("fanout-pg-");
        String runAs =
            needsOtherUser(base)
                ? System.getenv().getOrDefault("FANOUT_PG_USER", "postgres")
                : null;
        if (runAs != null) {
          UserPrincipalLookupService users = base.getFileSystem().getUserPrincipalLookupService();
          UserPrincipal owner;
          try {
            owner = users.lookupPrincipalByName(runAs);
          } catch (IOException e) {
            throw new IllegalStateException(
                "running as root, PostgreSQL must run as another user, but there is no user '"
                    + runAs
                    + "' (create it, or set FANOUT_PG_USER)",
                e);
          }
          Files.setOwner(base, owner);
        }
        PostgresServer server = new PostgresServer(bin, base, runAs, freePort());
        server.initdb();
        server.startServer();
        return server;
      } catch (IOException e) {
        last = new IllegalStateException("could not start PostgreSQL: " + e, e);
      } catch (IllegalStateException e) {
        last = e;
      }
      if (base != null) {
        deleteTree(base);
      }
      if (last.getMessage() != null && last.getMessage().contains("no user")) {
        break;
      }
    }
    throw last;
  }

  /** The loopback address the server listens on. */
  public String host() {
    return "127.0.0.1";
  }

  /** The port the server listens on. */
  public int port() {
    return port;
  }

  /** The database user with all rights (authentication is {@code trust}: any password works). */
  public String user() {
    return "postgres";
  }

  /** A JDBC URL of the {@code postgres} database. */
  public String jdbcUrl() {
    return jdbcUrl("postgres");
  }

  /** A JDBC URL of {@code database}. */
  public String jdbcUrl(String database) {
    return "jdbc:postgresql://" + host() + ":" + port + "/" + database + "?user=" + user();
  }

  /**
   * Creates {@code database} if it does not exist yet, and returns its JDBC URL.
   *
   * @throws IllegalArgumentException unless the name is a plain lower-case identifier
   */
  public String createDatabase(String database) {
    if (!database.matches("[a-z_][a-z0-9_]{0,62}")) {
      throw new IllegalArgumentException(
          "database must be a plain lower-case identifier, was '" + database + "'");
    }
    try (Connection c = DriverManager.getConnection(jdbcUrl());
        Statement s = c.createStatement()) {
      var rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + database + "'");
      if (!rs.next()) {
        s.execute("CREATE DATABASE " + database);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("could not create database " + database + ": " + e, e);
    }
    return jdbcUrl(database);
  }

  /** Stops the server the fast way (clients are disconnected) and starts it again, same port. */
  public void restart() {
    lock.lock();
    try {
      stopServer("fast");
      startServer();
    } finally {
      lock.unlock();
    }
  }

  /** Stops the server; {@link #startAgain()} starts it again on the same port and data. */
  public void stop() {
    lock.lock();
    try {
      stopServer("fast");
    } finally {
      lock.unlock();
    }
  }

  /** Starts a server stopped by {@link #stop()}. */
  public void startAgain() {
    lock.lock();
    try {
      if (!running) {
        startServer();
      }
    } finally {
      lock.unlock();
    }
  }

  /** Whether the server is running. */
  public boolean isRunning() {
    lock.lock();
    try {
      return running;
    } finally {
      lock.unlock();
    }
  }

  /** Stops the server at once and deletes its files. Idempotent. */
  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      if (running) {
        try {
          stopServer("immediate");
        } catch (RuntimeException e) {
          log.warn("stopping PostgreSQL on port {} failed: {}", port, e.toString());
        }
      }
      deleteTree(baseDir);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public String toString() {
    return "PostgresServer[127.0.0.1:" + port + ", " + dataDir + "]";
  }

  // ---------------------------------------------------------------------------------------------

  private void initdb() {
    run(
        60,
        binDir.resolve("initdb").toString(),
        "-D",
        dataDir.toString(),
        "-U",
        user(),
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync");
  }

  private void startServer() {
    long start = System.nanoTime();
    String options =
        String.join(
            " ",
            "-c listen_addresses=127.0.0.1",
            "-p " + port,
            "-k " + baseDir,
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
            "-c max_connections=300",
            "-c shared_buffers=128MB");
    run(
        90,
        binDir.resolve("pg_ctl").toString(),
        "-D",
        dataDir.toString(),
        "-l",
        baseDir.resolve("server.log").toString(),
        "-w",
        "-t",
        "60",
        "-o",
        options,
        "start");
    running = true;
    log.info(
        "PostgreSQL started on 127.0.0.1:{} in {} ms ({})",
        port,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start),
        dataDir);
  }

  private void stopServer(String mode) {
    if (!running) {
      return;
    }
    run(
        60,
        binDir.resolve("pg_ctl").toString(),
        "-D",
        dataDir.toString(),
        "-m",
        mode,
        "-w",
        "stop");
    running = false;
  }

  private void run(int timeoutSeconds, String... command) {
    List<String> full = new ArrayList<>();
    if (runAs != null) {
      full.addAll(List.of("runuser", "-u", runAs, "--"));
    }
    full.addAll(Arrays.asList(command));
    Path out = baseDir.resolve("command.log");
    try {
      Process process =
          new ProcessBuilder(full)
              .directory(baseDir.toFile())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
              .start();
      if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException(
            "timed out after " + timeoutSeconds + " s: " + String.join(" ", full) + "\n" + logs());
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException(
            "failed with exit code "
                + process.exitValue()
                + ": "
                + String.join(" ", full)
                + "\n"
                + logs());
      }
    } catch (IOException e) {
      throw new IllegalStateException("could not run " + String.join(" ", full) + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + String.join(" ", full), e);
    }
  }

  private String logs() {
    StringBuilder text = new StringBuilder();
    for (String name : List.of("command.log", "server.log")) {
      Path file = baseDir.resolve(name);
      if (Files.isReadable(file)) {
        try {
          String content = Files.readString(file, StandardCharsets.UTF_8);
          text.append("--- ")
              .append(name)
              .append(" ---\n")
              .append(
                  content.length() > 4000 ? content.substring(content.length() - 4000) : content);
        } catch (IOException e) {
          text.append("--- ").append(name).append(": ").append(e).append('\n');
        }
      }
    }
    return text.toString();
  }

  private static boolean needsOtherUser(Path dir) throws IOException {
    return Files.getOwner(dir).getName().equals("root");
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      return socket.getLocalPort();
    }
  }

  static Path findBinaries() {
    List<String> looked = new ArrayList<>();
    String configured = System.getProperty("fanout.pg.bin", System.getenv("FANOUT_PG_BIN"));
    if (configured != null && !configured.isBlank()) {
      Path dir = Path.of(configured);
      if (hasBinaries(dir)) {
        return dir;
      }
      throw new IllegalStateException(
          "FANOUT_PG_BIN / fanout.pg.bin is " + dir + ", but it holds no initdb and pg_ctl");
    }
    String path = System.getenv().getOrDefault("PATH", "");
    for (String entry : path.split(java.io.File.pathSeparator)) {
      if (entry.isBlank()) {
        continue;
      }
      looked.add(entry);
      Path dir = Path.of(entry);
      if (hasBinaries(dir)) {
        return realBinDir(dir);
      }
    }
    Path versions = Path.of("/usr/lib/postgresql");
    looked.add(versions + "/*/bin");
    if (Files.isDirectory(versions)) {
      try (Stream<Path> dirs = Files.list(versions)) {
        Optional<Path> newest =
            dirs.map(v -> v.resolve("bin"))
                .filter(PostgresServer::hasBinaries)
                .max(Comparator.comparingInt(PostgresServer::majorVersion));
        if (newest.isPresent()) {
          return newest.get();
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    throw new IllegalStateException(
        "no PostgreSQL server binaries (initdb, pg_ctl) found; looked in "
            + looked
            + ". Install them (Debian/Ubuntu: apt-get install postgresql) or set FANOUT_PG_BIN"
            + " to their directory.");
  }

  private static boolean hasBinaries(Path dir) {
    return Files.isExecutable(dir.resolve("initdb")) && Files.isExecutable(dir.resolve("pg_ctl"));
  }

  /** PATH entries are often symlink farms: use the directory the real initdb lives in. */
  private static Path realBinDir(Path dir) {
    try {
      Path real = dir.resolve("initdb").toRealPath().getParent();
      return real != null && hasBinaries(real) ? real : dir;
    } catch (IOException e) {
      return dir;
    }
  }

  private static int majorVersion(Path bin) {
    Path parent = bin.getParent();
    String name =
        parent == null || parent.getFileName() == null ? "" : parent.getFileName().toString();
    try {
      return Integer.parseInt(name.toLowerCase(Locale.ROOT).replaceAll("[^0-9].*$", ""));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      log.warn("could not delete {}: {}", root, e.toString());
    }
  }
}
