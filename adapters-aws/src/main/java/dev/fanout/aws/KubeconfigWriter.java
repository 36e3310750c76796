package dev.fanout.aws;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes kubeconfig entries for EKS clusters into a kubeconfig file, the way
 * {@code aws eks update-kubeconfig} does for one cluster, for all clusters of a scan at once: one
 * cluster, one user and one context per cluster, each named by the cluster's ARN unless a
 * {@linkplain Builder#contextName context name} is given; the user gets a token by running
 * {@code aws eks get-token} (an {@code exec} credential plugin), so no token is stored in the file.
 *
 * {@snippet :
 * KubeconfigUpdate update = KubeconfigWriter.builder(Path.of(System.getProperty("user.home"), ".kube", "config"))
 *     .profile(accountId -> "sso-" + accountId)   // AWS_PROFILE for aws eks get-token
 *     .build()
 *     .write(report.clusters());
 * log.info(update.summary()); // Successful: 18 clusters, Failed: 2 clusters, Total: 20 clusters (...)
 * }
 *
 * <h2>Merging</h2>
 *
 * The existing file is read and kept: clusters, contexts and users of other names stay as they
 * are, in their order, and so does every other key ({@code preferences}, {@code extensions},
 * {@code current-context} unless {@link Builder#currentContext} says otherwise). An entry with the
 * same name as a new one is replaced in place; new entries are appended. A file that is not a
 * kubeconfig (not a mapping, or {@code clusters} not a list of named mappings) is left untouched
 * and the write fails, saying why.
 *
 * <h2>Writing</h2>
 *
 * The whole file is written once: to a temporary file in the same directory, forced to disk,
 * then moved over the target with {@link StandardCopyOption#ATOMIC_MOVE}. A reader sees the old
 * file or the new one, never half of one; a failed write leaves the old file as it was. If the
 * content would not change, nothing is written.
 *
 * <p>What is kept of the old file besides its content: its POSIX permission bits (a file that was
 * {@code rw-r-----} stays so; a new file is {@code rw-------}). Not kept, since the file is a new
 * one: its owner and group (it belongs to the writing user, as after any {@code kubectl config}
 * edit that creates it), ACLs and extended attributes, other hard links to it. A target that is a
 * symbolic link is replaced by a regular file.
 *
 * <h2>Concurrent writers</h2>
 *
 * Writers take the lock kubectl and client-go take for a kubeconfig: an exclusive
 * {@code <file>.lock} beside it, created with {@code CREATE_NEW} and deleted when done. The file
 * is read, merged and written under the lock, so writers in one JVM, in several JVMs or a
 * {@code kubectl config set-context} at the same time each see the others' entries and none is
 * lost. A writer waits for the lock at most {@linkplain Builder#lockTimeout the lock timeout}
 * (10 s unless set), then fails with an {@link IOException} naming the lock file. A lock file
 * last modified longer ago than {@linkplain Builder#staleLockAge the stale age} (60 s unless
 * set) is taken to be left behind by a writer that died, and is removed (renamed aside first, so
 * that two writers cannot both break it). A write holds the lock for milliseconds, so the stale
 * age only needs to exceed the slowest write; a writer that held a lock longer than the stale
 * age could lose its exclusivity.
 */
public final class KubeconfigWriter {
  private static final Logger log = LoggerFactory.getLogger(KubeconfigWriter.class);
  static final String EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1";

  private final Path path;
  private final String command;
  private final Function<String, @Nullable String> profile;
  private final Function<EksCluster, String> contextName;
  private final @Nullable String currentContext;
  private final Duration lockTimeout;
  private final Duration staleLockAge;

  private KubeconfigWriter(Builder b) {
    this.lockTimeout = b.lockTimeout;
    this.staleLockAge = b.staleLockAge;
    this.path = b.path;
    this.command = b.command;
    this.profile = b.profile;
    this.contextName = b.contextName;
    this.currentContext = b.currentContext;
  }

  /** A writer for the kubeconfig at {@code path} (made, with its directory, if missing). */
  public static Builder builder(Path path) {
    return new Builder(path);
  }

  /**
   * Takes the file's lock, reads the file, merges entries for {@code clusters} into it and writes
   * it atomically, then releases the lock.
   *
   * @throws IOException if the file cannot be read or written, or its lock was held by another
   *     writer for longer than the lock timeout ({@link java.io.InterruptedIOException} if
   *     interrupted while waiting for it)
   * @throws IllegalArgumentException if the existing file is not a kubeconfig (it is left as it is)
   */
  public KubeconfigUpdate write(Collection<EksCluster> clusters) throws IOException {
    Objects.requireNonNull(clusters, "clusters must not be null");
    Path absolute = path.toAbsolutePath();
    Files.createDirectories(Objects.requireNonNull(absolute.getParent(), "a file path has a parent"));
    Merged merged;
    boolean write;
    String existing = null;
    try (LockFile lock = LockFile.acquire(path, lockTimeout, staleLockAge)) {
      try {
        existing = Files.readString(path, StandardCharsets.UTF_8);
      } catch (NoSuchFileException e) {
        // a new file
      }
      merged = merge(existing, clusters);
      write = !merged.text.equals(existing);
      if (write) {
        writeAtomically(path, merged.text);
      }
    }
    KubeconfigUpdate update =
        new KubeconfigUpdate(path, merged.added, merged.replaced, merged.kept, merged.skipped, write);
    log.info("Kubeconfig {}: {}", path, update.summary());
    return update;
  }

  /**
   * The file's content after merging {@code clusters} into {@code existing} (a kubeconfig's text,
   * or {@code null} for none), without writing anything.
   *
   * @throws IllegalArgumentException if {@code existing} is not a kubeconfig
   */
  public String render(@Nullable String existing, Collection<EksCluster> clusters) {
    return merge(existing, clusters).text;
  }

  private record Merged(
      String text, List<String> added, List<String> replaced, int kept, List<EksCluster> skipped) {}

  private Merged merge(@Nullable String existing, Collection<EksCluster> clusters) {
    String what = "kubeconfig " + path;
    Map<String, Object> config = new LinkedHashMap<>();
    if (existing != null && !existing.isBlank()) {
      Object parsed = YamlSupport.load(existing, what);
      if (parsed != null) {
        if (!(parsed instanceof Map<?, ?> map)) {
          throw new IllegalArgumentException(
              what + " must be a YAML mapping (apiVersion, kind, clusters, ...), was a "
                  + typeName(parsed));
        }
        for (Map.Entry<?, ?> e : map.entrySet()) {
          config.put(String.valueOf(e.getKey()), e.getValue());
        }
      }
    }
    config.putIfAbsent("apiVersion", "v1");
    config.putIfAbsent("kind", "Config");
    List<Map<String, Object>> clusterEntries = namedList(config, "clusters", what);
    List<Map<String, Object>> contextEntries = namedList(config, "contexts", what);
    List<Map<String, Object>> userEntries = namedList(config, "users", what);
    Set<String> before = names(contextEntries);

    List<String> added = new ArrayList<>();
    List<String> replaced = new ArrayList<>();
    List<EksCluster> skipped = new ArrayList<>();
    Set<String> touched = new LinkedHashSet<>();
    for (EksCluster cluster : clusters) {
      if (!cluster.isConnectable()) {
        skipped.add(cluster);
        continue;
      }
      String arn = cluster.arnOrDerived();
      String context = Objects.requireNonNull(contextName.apply(cluster), "context name of " + cluster);
      if (!touched.add(context)) {
        throw new IllegalArgumentException(
            "two clusters map to the context name '" + context + "'; make contextName unique");
      }
      upsert(clusterEntries, arn, "cluster", clusterBody(cluster));
      upsert(userEntries, arn, "user", userBody(cluster));
      upsert(contextEntries, context, "context", contextBody(arn));
      (before.contains(context) ? replaced : added).add(context);
    }
    if (currentContext != null) {
      config.put("current-context", currentContext);
    }
    int kept = 0;
    for (String name : before) {
      if (!touched.contains(name)) {
        kept++;
      }
    }
    return new Merged(YamlSupport.dump(config), added, replaced, kept, skipped);
  }

  private Map<String, Object> clusterBody(EksCluster cluster) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("certificate-authority-data", cluster.certificateAuthorityData());
    body.put("server", cluster.endpoint());
    return body;
  }

  private Map<String, Object> userBody(EksCluster cluster) {
    Map<String, Object> exec = new LinkedHashMap<>();
    exec.put("apiVersion", EXEC_API_VERSION);
    exec.put(
        "args",
        List.of(
            "--region", cluster.region(),
            "eks", "get-token",
            "--cluster-name", cluster.name(),
            "--output", "json"));
    exec.put("command", command);
    String awsProfile = profile.apply(cluster.accountId());
    if (awsProfile != null) {
      exec.put("env", List.of(Map.of("name", "AWS_PROFILE", "value", awsProfile)));
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("exec", exec);
    return body;
  }

  private static Map<String, Object> contextBody(String arn) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("cluster", arn);
    body.put("user", arn);
    return body;
  }

  /** Replaces the entry named {@code name} in place, or appends it. */
  private static void upsert(
      List<Map<String, Object>> entries, String name, String bodyKey, Map<String, Object> body) {
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put(bodyKey, body);
    entry.put("name", name);
    for (int i = 0; i < entries.size(); i++) {
      if (name.equals(entries.get(i).get("name"))) {
        entries.set(i, entry);
        return;
      }
    }
    entries.add(entry);
  }

  /** The list under {@code key} as mutable named maps, put back into {@code config}. */
  private static List<Map<String, Object>> namedList(
      Map<String, Object> config, String key, String what) {
    Object value = config.get(key);
    List<Map<String, Object>> list = new ArrayList<>();
    if (value != null) {
      if (!(value instanceof List<?> items)) {
        throw new IllegalArgumentException(
            what + ": '" + key + "' must be a list, was a " + typeName(value));
      }
      for (int i = 0; i < items.size(); i++) {
        Object item = items.get(i);
        if (!(item instanceof Map<?, ?> map) || !(map.get("name") instanceof String)) {
          throw new IllegalArgumentException(
              what + ": " + key + "[" + i + "] must be a mapping with a 'name', was a "
                  + typeName(item));
        }
        Map<String, Object> copy = new LinkedHashMap<>();
        map.forEach((k, v) -> copy.put(String.valueOf(k), v));
        list.add(copy);
      }
    }
    config.put(key, list);
    return list;
  }

  private static Set<String> names(List<Map<String, Object>> entries) {
    Set<String> names = new LinkedHashSet<>();
    entries.forEach(e -> names.add((String) e.get("name")));
    return names;
  }

  private static String typeName(@Nullable Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof Map) {
      return "mapping";
    }
    if (value instanceof List) {
      return "list";
    }
    return "scalar (" + value.getClass().getSimpleName() + ")";
  }

  /**
   * Writes {@code text} to a temporary file beside {@code target}, forces it to disk, and moves it
   * over {@code target} atomically. The new file has the old one's POSIX permissions, or
   * {@code rw-------} if there was none. The temporary file is removed if anything fails.
   */
  static void writeAtomically(Path target, String text) throws IOException {
    Path absolute = target.toAbsolutePath();
    Path dir = Objects.requireNonNull(absolute.getParent(), "a file path has a parent");
    Files.createDirectories(dir);
    Path tmp;
    if (FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      tmp =
          Files.createTempFile(
              dir,
              "." + absolute.getFileName() + ".",
              ".tmp",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      try {
        Set<PosixFilePermission> old = Files.getPosixFilePermissions(absolute);
        Files.setPosixFilePermissions(tmp, old);
      } catch (NoSuchFileException newFile) {
        // keeps rw-------
      } catch (IOException | RuntimeException e) {
        Files.deleteIfExists(tmp);
        throw e;
      }
    } else {
      tmp = Files.createTempFile(dir, "." + absolute.getFileName() + ".", ".tmp");
    }
    try {
      try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (bytes.hasRemaining()) {
          channel.write(bytes);
        }
        channel.force(true);
      }
      try {
        Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException(
            "cannot replace " + absolute + " atomically (the file system does not support it)", e);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Builds a {@link KubeconfigWriter}. Not thread-safe. */
  public static final class Builder {
    private final Path path;
    private String command = "aws";
    private Function<String, @Nullable String> profile = accountId -> null;
    private Function<EksCluster, String> contextName = EksCluster::arnOrDerived;
    private @Nullable String currentContext;
    private Duration lockTimeout = Duration.ofSeconds(10);
    private Duration staleLockAge = Duration.ofSeconds(60);

    private Builder(Path path) {
      this.path = Objects.requireNonNull(path, "path must not be null");
    }

    /** The command that prints a token; {@code aws} unless set (a full path works too). */
    public Builder command(String command) {
      Objects.requireNonNull(command, "command must not be null");
      if (command.isBlank()) {
        throw new IllegalArgumentException("command must not be blank, was '" + command + "'");
      }
      this.command = command;
      return this;
    }

    /**
     * The AWS CLI profile {@code aws eks get-token} runs with, by account id, set as
     * {@code AWS_PROFILE} in the exec entry; none (the CLI's default) where it returns
     * {@code null}.
     */
    public Builder profile(Function<String, @Nullable String> profileForAccount) {
      this.profile = Objects.requireNonNull(profileForAccount, "profileForAccount must not be null");
      return this;
    }

    /** The context name of each cluster; its ARN unless set. Must be unique per cluster. */
    public Builder contextName(Function<EksCluster, String> contextName) {
      this.contextName = Objects.requireNonNull(contextName, "contextName must not be null");
      return this;
    }

    /** Sets {@code current-context}; unless set, the file's current context is kept. */
    public Builder currentContext(String context) {
      Objects.requireNonNull(context, "context must not be null");
      if (context.isBlank()) {
        throw new IllegalArgumentException("context must not be blank");
      }
      this.currentContext = context;
      return this;
    }

    /**
     * How long a write waits for another writer's {@code <file>.lock}; 10 s unless set.
     *
     * @throws IllegalArgumentException if negative
     */
    public Builder lockTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout must not be null");
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("lockTimeout must not be negative, was " + timeout);
      }
      this.lockTimeout = timeout;
      return this;
    }

    /**
     * How old (since last modified) a {@code <file>.lock} must be to be taken as left behind by
     * a writer that died, and removed; 60 s unless set. Keep it above the slowest write.
     *
     * @throws IllegalArgumentException if not positive
     */
    public Builder staleLockAge(Duration age) {
      Objects.requireNonNull(age, "age must not be null");
      if (age.isNegative() || age.isZero()) {
        throw new IllegalArgumentException("staleLockAge must be positive, was " + age);
      }
      this.staleLockAge = age;
      return this;
    }

    /** Builds the writer. */
    public KubeconfigWriter build() {
      return new KubeconfigWriter(this);
    }
  }
}
