package dev.fanout.aws;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An exclusive {@code <file>.lock} beside a file, the way kubectl and client-go lock a kubeconfig:
 * the lock is held by whoever created the lock file ({@code CREATE_NEW}, atomic on local file
 * systems), released by deleting it. Waits a bounded time; breaks a lock older than the stale age.
 */
final class LockFile implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LockFile.class);
  private static final long FIRST_WAIT_MS = 2;
  private static final long LONGEST_WAIT_MS = 50;

  private final Path lock;
  private final String owner;

  private LockFile(Path lock, String owner) {
    this.lock = lock;
    this.owner = owner;
  }

  /** The lock file of {@code target}: {@code <target>.lock} in the same directory. */
  static Path lockPath(Path target) {
    Path absolute = target.toAbsolutePath();
    return absolute.resolveSibling(absolute.getFileName() + ".lock");
  }

  /**
   * Takes the lock of {@code target}, waiting at most {@code timeout} for another holder to
   * release it; a lock file last modified more than {@code staleAge} ago is taken to be left by
   * a writer that died, and removed.
   *
   * @throws IOException if the lock is still held after {@code timeout}, or cannot be made
   * @throws InterruptedIOException if interrupted while waiting (the interrupt flag is set again)
   */
  static LockFile acquire(Path target, Duration timeout, Duration staleAge) throws IOException {
    Path lock = lockPath(target);
    String owner = "pid " + ProcessHandle.current().pid() + " " + UUID.randomUUID() + "\n";
    long deadline = System.nanoTime() + timeout.toNanos();
    long waitMs = FIRST_WAIT_MS;
    while (true) {
      try {
        Files.writeString(lock, owner, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        return new LockFile(lock, owner);
      } catch (FileAlreadyExistsException held) {
        // someone else holds it: see below
      }
      BasicFileAttributes held = attributes(lock);
      if (held == null) {
        continue; // released between our attempt and our look: try again at once
      }
      Duration age = Duration.between(held.lastModifiedTime().toInstant(), Instant.now());
      if (age.compareTo(staleAge) > 0) {
        breakStale(lock, held, age);
        continue;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new IOException(
            "cannot lock "
                + target
                + ": "
                + lock
                + " is held by another writer (for "
                + age.toMillis()
                + " ms); gave up after "
                + timeout.toMillis()
                + " ms. A lock older than "
                + staleAge.toSeconds()
                + " s is removed as stale; if no writer runs, delete the lock file");
      }
      try {
        Thread.sleep(Math.min(waitMs, Math.max(1, left / 1_000_000)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        InterruptedIOException interrupted =
            new InterruptedIOException("interrupted while waiting for " + lock);
        interrupted.initCause(e);
        throw interrupted;
      }
      waitMs = Math.min(LONGEST_WAIT_MS, waitMs * 2);
    }
  }

  /**
   * Removes the stale lock file judged by {@code judged}, unless another writer replaced it in
   * the meantime: the file is first renamed aside (atomically, so only one breaker gets it), and
   * if what was renamed is not the file judged stale, it is put back.
   */
  private static void breakStale(Path lock, BasicFileAttributes judged, Duration age) throws IOException {
    Path aside = lock.resolveSibling(lock.getFileName() + ".stale-" + UUID.randomUUID());
    try {
      Files.move(lock, aside, StandardCopyOption.ATOMIC_MOVE);
    } catch (NoSuchFileException gone) {
      return; // released, or broken by another writer
    }
    BasicFileAttributes moved = attributes(aside);
    boolean same =
        moved != null
            && Objects.equals(moved.fileKey(), judged.fileKey())
            && moved.lastModifiedTime().equals(judged.lastModifiedTime());
    if (!same) {
      // A live lock taken after our look: give it back, unless a newer one exists already.
      try {
        Files.createLink(lock, aside);
      } catch (IOException | UnsupportedOperationException e) {
        log.warn("could not restore the lock {} after removing it as stale: {}", lock, e.toString());
      }
      Files.deleteIfExists(aside);
      return;
    }
    Files.deleteIfExists(aside);
    log.warn("Removed stale lock {} ({} s old): a writer that held it must have died", lock, age.toSeconds());
  }

  private static @Nullable BasicFileAttributes attributes(Path file) throws IOException {
    try {
      return Files.readAttributes(file, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  /** Releases the lock: deletes the lock file if it is still this holder's. */
  @Override
  public void close() throws IOException {
    String current;
    try {
      current = Files.readString(lock, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      log.warn("lock {} was removed while held (taken for stale?)", lock);
      return;
    }
    if (owner.equals(current)) {
      Files.delete(lock);
    } else {
      log.warn("lock {} was taken over by another writer while held (taken for stale?)", lock);
    }
  }
}
