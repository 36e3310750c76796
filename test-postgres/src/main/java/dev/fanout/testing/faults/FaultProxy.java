package dev.fanout.testing.faults;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TCP proxy on loopback that injects network faults between a client (a JDBC driver, say) and
 * a server, switched at run time: what a flaky network, a frozen peer or a restarting server does
 * to a connection, on demand and on one machine.
 *
 * {@snippet :
 * try (FaultProxy proxy = FaultProxy.start("127.0.0.1", server.port())) {
 *   String url = "jdbc:postgresql://127.0.0.1:" + proxy.port() + "/postgres?socketTimeout=2";
 *   proxy.stall();          // nothing moves; the driver's socket timeout fires
 *   proxy.passThrough();    // bytes held meanwhile are delivered, late
 *   FaultProxy.Trigger t = proxy.loseRepliesAfter("COMMIT"); // the commit lands, its reply not
 * }
 * }
 *
 * <h2>Faults</h2>
 *
 * <ul>
 *   <li>{@link #passThrough()}: forwards everything (the initial mode).
 *   <li>{@link #delay(Duration)}: waits that long before forwarding each chunk, both ways.
 *   <li>{@link #stall()}: forwards nothing, either way, but keeps every socket open: reads go on
 *       until the socket buffers fill, and the chunks each direction has read are delivered when
 *       the proxy passes through again — as a frozen peer or a congested link does.
 *   <li>{@link #blackhole()}: accepts connections and reads from them, and drops everything; a
 *       new connection is not even passed on to the target.
 *   <li>{@link #resetAll()}: closes every open connection, both sides, with a TCP reset ({@code
 *       SO_LINGER} 0), whatever the mode; new connections are accepted as before.
 *   <li>{@link #loseRepliesAfter(String)}: the next request from the client that contains a marker
 *       (e.g. {@code "COMMIT"}) is forwarded, and from then on nothing the server sends on that
 *       connection reaches the client: the server did the work, the client never hears of it.
 *   <li>{@link #holdNext(String)}: the next request that contains a marker is held back on its
 *       connection (the other connections go on) until {@link #passThrough()} delivers it late, or
 *       {@link #resetAll()} drops it: a statement in flight that has not reached the server yet.
 *   <li>{@link #stopListening()} / {@link #startListening()}: the port refuses connections and
 *       every open one is reset, then it listens again on the same port: a server restart as the
 *       client sees it.
 * </ul>
 *
 * A request is one chunk the proxy read from the client; a marker is found only when it lies
 * within one chunk, which is the case for a statement the client writes in one go. Give the
 * PostgreSQL driver {@code prepareThreshold=0}, so that it sends the statement's text with every
 * execution rather than a server-side prepared statement's name.
 *
 * <h2>Threads</h2>
 *
 * One platform thread accepts, two per connection forward (one each way), all daemon threads
 * named {@code fault-proxy-<port>-...}. {@link #close()} closes every socket and waits for every
 * thread to end; {@link #threads()} tells how many are alive. Mode changes apply to chunks not
 * yet forwarded and are thread-safe.
 *
 * <p>Why this class is long (~720 lines): every fault (delay, stall, reset, blackhole, lost reply,
 * held request, stop and restart) acts on the same per-connection pumps ({@code Link}), and the
 * races between them (a stop during an accept, a reset during a hold) are only checkable with the
 * pumps in view.
 */
public final class FaultProxy implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FaultProxy.class);
  private static final int CHUNK = 64 * 1024;
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(10);

  /** The fault that applies to every connection. */
  private enum Mode {
    PASS,
    DELAY,
    STALL,
    BLACKHOLE
  }

  private final InetSocketAddress target;
  private final int port;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final Set<Link> links = ConcurrentHashMap.newKeySet();
  private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
  private final AtomicInteger connectionNumbers = new AtomicInteger();
  private final AtomicReference<@Nullable Trigger> armed = new AtomicReference<>();
  private final AtomicInteger accepted = new AtomicInteger();
  /**
   * Counts {@link #resetAll()} calls, so that a connection accepted before one and set up after
   * its look at the open connections is reset too, not left open behind its back.
   */
  private final AtomicInteger resets = new AtomicInteger();

  // Guarded by lock; read without it where a stale value is harmless (it is re-read under lock).
  private volatile Mode mode = Mode.PASS;
  private volatile long delayNanos;
  private volatile boolean closed;
  private @Nullable ServerSocket listener;
  /** The thread accepting on {@link #listener}. Guarded by lock. */
  private @Nullable Thread acceptor;

  private FaultProxy(InetSocketAddress target, ServerSocket listener) {
    this.target = target;
    this.listener = listener;
    this.port = listener.getLocalPort();
  }

  /**
   * Starts a proxy on 127.0.0.1, on a free port, that forwards to {@code targetHost:targetPort}.
   *
   * @throws IllegalArgumentException if {@code targetPort} is not a TCP port
   * @throws IllegalStateException if no port can be opened
   */
  public static FaultProxy start(String targetHost, int targetPort) {
    Objects.requireNonNull(targetHost, "targetHost must not be null");
    if (targetPort < 1 || targetPort > 65_535) {
      throw new IllegalArgumentException("targetPort must be in 1..65535, was " + targetPort);
    }
    try {
      FaultProxy proxy =
          new FaultProxy(new InetSocketAddress(targetHost, targetPort), listen(0));
      proxy.startAcceptor();
      log.info("fault proxy 127.0.0.1:{} -> {}:{} started", proxy.port, targetHost, targetPort);
      return proxy;
    } catch (IOException e) {
      throw new IllegalStateException("could not open a port on 127.0.0.1: " + e, e);
    }
  }

  /** The address the proxy listens on: always {@code 127.0.0.1}. */
  public String host() {
    return "127.0.0.1";
  }

  /** The port the proxy listens on; the same across {@link #stopListening()}. */
  public int port() {
    return port;
  }

  // ---------------------------------------------------------------------------------------------
  // Faults

  /** Forwards everything, and delivers what a {@link #stall()} or {@link #holdNext} held back. */
  public void passThrough() {
    change(Mode.PASS, 0, true);
  }

  /**
   * Waits {@code perChunk} before forwarding each chunk, both ways.
   *
   * @throws IllegalArgumentException if {@code perChunk} is negative
   */
  public void delay(Duration perChunk) {
    Objects.requireNonNull(perChunk, "perChunk must not be null");
    if (perChunk.isNegative()) {
      throw new IllegalArgumentException("perChunk must not be negative, was " + perChunk);
    }
    change(Mode.DELAY, perChunk.toNanos(), false);
  }

  /** Forwards nothing, either way, and keeps the sockets open; see the class documentation. */
  public void stall() {
    change(Mode.STALL, 0, false);
  }

  /** Accepts and reads, and drops everything; new connections never reach the target. */
  public void blackhole() {
    change(Mode.BLACKHOLE, 0, false);
  }

  /**
   * Closes every open connection, both sides, with a TCP reset; requests held back are dropped.
   * The mode stays as it is, and new connections are accepted.
   *
   * @return how many connections were reset
   */
  public int resetAll() {
    resets.incrementAndGet();
    List<Link> open = new ArrayList<>(links);
    for (Link link : open) {
      link.reset();
    }
    signal();
    log.info("fault proxy {}: reset {} connections", port, open.size());
    return open.size();
  }

  /**
   * Arms a one-shot trigger: the next request that contains {@code marker} (its bytes in
   * US-ASCII) is forwarded, and nothing the server sends on that connection afterwards reaches the
   * client. The connection stays open until the client gives up on it or {@link #resetAll()}.
   * Replaces a trigger armed before that has not fired.
   */
  public Trigger loseRepliesAfter(String marker) {
    return arm(new Trigger(Trigger.Kind.LOSE_REPLIES, marker));
  }

  /**
   * Arms a one-shot trigger: the next request that contains {@code marker} is held back on its
   * connection, not forwarded, until {@link #passThrough()} delivers it (late) or {@link
   * #resetAll()} drops it with the connection. Other connections go on. Replaces a trigger armed
   * before that has not fired.
   */
  public Trigger holdNext(String marker) {
    return arm(new Trigger(Trigger.Kind.HOLD, marker));
  }

  /**
   * Stops listening and resets every open connection: connections to the port are refused until
   * {@link #startListening()}. Idempotent.
   */
  public void stopListening() {
    Thread accepting;
    lock.lock();
    try {
      ServerSocket current = listener;
      listener = null;
      accepting = acceptor;
      acceptor = null;
      if (current != null) {
        closeQuietly(current);
      }
    } finally {
      lock.unlock();
    }
    // A socket closed while a thread is blocked accepting on it still listens until that accept
    // returns (the call holds on to it): wait for it, so that the port refuses from now on.
    if (accepting != null) {
      try {
        accepting.join(JOIN_TIMEOUT);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    int reset = resetAll();
    log.info("fault proxy {}: stopped listening ({} connections reset)", port, reset);
  }

  /**
   * Listens again on the same port after {@link #stopListening()}. Idempotent.
   *
   * @throws IllegalStateException if the proxy is closed or the port cannot be bound again
   */
  public void startListening() {
    lock.lock();
    try {
      if (closed) {
        throw new IllegalStateException("fault proxy " + port + " is closed");
      }
      if (listener != null) {
        return;
      }
      try {
        listener = listen(port);
      } catch (IOException e) {
        throw new IllegalStateException("could not listen on 127.0.0.1:" + port + " again: " + e, e);
      }
    } finally {
      lock.unlock();
    }
    startAcceptor();
    log.info("fault proxy {}: listening again", port);
  }

  // ---------------------------------------------------------------------------------------------
  // Observing

  /** How many connections are open now. */
  public int connections() {
    return links.size();
  }

  /** How many connections were accepted since the start. */
  public int accepted() {
    return accepted.get();
  }

  /** How many of the proxy's threads are alive now. */
  public int threads() {
    int alive = 0;
    for (Thread t : threads) {
      if (t.isAlive()) {
        alive++;
      }
    }
    return alive;
  }

  /** Stops listening, closes every connection and waits for every thread to end. Idempotent. */
  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      ServerSocket current = listener;
      listener = null;
      if (current != null) {
        closeQuietly(current);
      }
    } finally {
      lock.unlock();
    }
    for (Link link : new ArrayList<>(links)) {
      link.reset();
    }
    signal();
    long deadline = System.nanoTime() + JOIN_TIMEOUT.toNanos();
    for (Thread t : new ArrayList<>(threads)) {
      try {
        long left = deadline - System.nanoTime();
        if (left > 0) {
          t.join(Duration.ofNanos(left));
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      if (t.isAlive()) {
        log.warn("fault proxy {}: thread {} did not end", port, t.getName());
      }
    }
    log.info("fault proxy {} closed ({} connections accepted in all)", port, accepted.get());
  }

  @Override
  public String toString() {
    return "FaultProxy[127.0.0.1:" + port + " -> " + target + ", " + mode + "]";
  }

  // ---------------------------------------------------------------------------------------------
  // Machinery

  /**
   * A one-shot trigger on the next request that contains a marker; see {@link
   * #loseRepliesAfter} and {@link #holdNext}.
   */
  public static final class Trigger {
    private enum Kind {
      LOSE_REPLIES,
      HOLD
    }

    private final Kind kind;
    private final String marker;
    private final byte[] bytes;
    private final AtomicBoolean fired = new AtomicBoolean();

    private Trigger(Kind kind, String marker) {
      Objects.requireNonNull(marker, "marker must not be null");
      if (marker.isEmpty()) {
        throw new IllegalArgumentException("marker must not be empty");
      }
      this.kind = kind;
      this.marker = marker;
      this.bytes = marker.getBytes(StandardCharsets.US_ASCII);
    }

    /** Whether a request with the marker came and the fault was applied to it. */
    public boolean fired() {
      return fired.get();
    }

    @Override
    public String toString() {
      return "Trigger[" + kind + " on \"" + marker + "\", " + (fired() ? "fired" : "armed") + "]";
    }
  }

  private Trigger arm(Trigger trigger) {
    armed.set(trigger);
    log.info("fault proxy {}: armed {}", port, trigger);
    return trigger;
  }

  private void change(Mode newMode, long newDelayNanos, boolean releaseHeld) {
    lock.lock();
    try {
      mode = newMode;
      delayNanos = newDelayNanos;
      if (releaseHeld) {
        for (Link link : links) {
          link.held = false;
        }
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    log.info(
        "fault proxy {}: {}",
        port,
        newMode == Mode.DELAY
            ? "delay " + TimeUnit.NANOSECONDS.toMillis(newDelayNanos) + " ms per chunk"
            : newMode.name().toLowerCase(Locale.ROOT));
  }

  private void signal() {
    lock.lock();
    try {
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private static ServerSocket listen(int port) throws IOException {
    ServerSocket socket = new ServerSocket();
    socket.setReuseAddress(true);
    socket.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 128);
    return socket;
  }

  private void startAcceptor() {
    lock.lock();
    try {
      ServerSocket socket = listener;
      if (socket != null && acceptor == null) {
        acceptor = spawn("accept", () -> acceptLoop(socket));
      }
    } finally {
      lock.unlock();
    }
  }

  private Thread spawn(String what, Runnable body) {
    Thread thread =
        Thread.ofPlatform()
            .name("fault-proxy-" + port + "-" + what)
            .daemon(true)
            .unstarted(
                () -> {
                  try {
                    body.run();
                  } finally {
                    threads.remove(Thread.currentThread());
                  }
                });
    threads.add(thread);
    thread.start();
    return thread;
  }

  private void acceptLoop(ServerSocket socket) {
    while (!socket.isClosed()) {
      Socket client;
      try {
        client = socket.accept();
      } catch (IOException e) {
        if (!socket.isClosed()) {
          log.warn("fault proxy {}: accept failed: {}", port, e.toString());
        }
        return;
      }
      int generation = resets.get();
      accepted.incrementAndGet();
      int number = connectionNumbers.incrementAndGet();
      if (closed) {
        resetQuietly(client);
        return;
      }
      if (mode == Mode.BLACKHOLE) {
        Link link = new Link(number, client, null);
        if (!register(link, socket, generation)) {
          continue;
        }
        spawn(number + "-blackhole", () -> drain(link));
        continue;
      }
      spawn(number + "-down", () -> connect(number, client, socket, generation));
    }
  }

  /**
   * Adds {@code link} to the open connections, and resets it at once if the proxy was closed, its
   * listener stopped or every connection reset since {@code socket} accepted it (reading {@code
   * generation}): such a connection was open when the fault came, so it must not survive it.
   * Returns whether the link is open.
   */
  private boolean register(Link link, ServerSocket socket, int generation) {
    links.add(link);
    if (closed || socket.isClosed() || resets.get() != generation) {
      link.reset();
      return false;
    }
    return true;
  }

  private void connect(int number, Socket client, ServerSocket acceptedBy, int generation) {
    Socket server = new Socket();
    try {
      server.setTcpNoDelay(true);
      client.setTcpNoDelay(true);
      server.connect(target, (int) CONNECT_TIMEOUT.toMillis());
    } catch (IOException e) {
      log.debug("fault proxy {}: connection {} to {} failed: {}", port, number, target, e.toString());
      resetQuietly(client);
      closeQuietly(server);
      return;
    }
    Link link = new Link(number, client, server);
    if (!register(link, acceptedBy, generation)) {
      return;
    }
    log.debug("fault proxy {}: connection {} open", port, number);
    spawn(number + "-up", () -> forward(link, true));
    forward(link, false); // this thread carries the replies
  }

  /** Reads and drops everything a blackholed connection sends. */
  private void drain(Link link) {
    byte[] buffer = new byte[CHUNK];
    try (InputStream in = link.client.getInputStream()) {
      while (in.read(buffer) >= 0) {
        // dropped
      }
    } catch (IOException e) {
      // reset or closed
    } finally {
      link.reset();
    }
  }

  /** Forwards one direction: client to server ({@code up}) or back. */
  private void forward(Link link, boolean up) {
    Socket from = up ? link.client : Objects.requireNonNull(link.server);
    Socket to = up ? Objects.requireNonNull(link.server) : link.client;
    byte[] buffer = new byte[CHUNK];
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      while (true) {
        int n = in.read(buffer);
        if (n < 0) {
          link.halfClose(to, up);
          return;
        }
        if (up) {
          applyTrigger(link, buffer, n);
        }
        if (!awaitTurn(link, up)) {
          return;
        }
        if (mode == Mode.BLACKHOLE || (!up && link.deaf)) {
          continue;
        }
        out.write(buffer, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      if (!link.gone) {
        log.debug(
            "fault proxy {}: connection {} {}: {}",
            port,
            link.number,
            up ? "client to server" : "server to client",
            e.toString());
      }
      link.reset();
    }
  }

  private void applyTrigger(Link link, byte[] buffer, int n) {
    Trigger trigger = armed.get();
    if (trigger == null || !contains(buffer, n, trigger.bytes)) {
      return;
    }
    if (!armed.compareAndSet(trigger, null)) {
      return;
    }
    lock.lock();
    try {
      // Set before the request is forwarded, so that no byte of its reply slips through.
      if (trigger.kind == Trigger.Kind.LOSE_REPLIES) {
        link.deaf = true;
      } else {
        link.held = true;
      }
      trigger.fired.set(true);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    log.info("fault proxy {}: connection {}: {}", port, link.number, trigger);
  }

  /**
   * Waits while the proxy stalls, the connection's request is held or the chunk's delay runs.
   *
   * @return false if the connection was closed meanwhile
   */
  private boolean awaitTurn(Link link, boolean up) {
    lock.lock();
    try {
      long delayUntil = mode == Mode.DELAY ? System.nanoTime() + delayNanos : 0;
      while (true) {
        if (link.gone || closed) {
          return false;
        }
        if (mode == Mode.STALL || (up && link.held)) {
          changed.await();
          continue;
        }
        if (mode == Mode.DELAY && delayUntil != 0) {
          long left = delayUntil - System.nanoTime();
          if (left > 0) {
            changed.awaitNanos(left);
            continue;
          }
        }
        return true;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      link.reset();
      return false;
    } finally {
      lock.unlock();
    }
  }

  private static boolean contains(byte[] haystack, int length, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private static void resetQuietly(Socket socket) {
    try {
      socket.setSoLinger(true, 0);
    } catch (SocketException e) {
      // already closed
    }
    closeQuietly(socket);
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      // nothing left to do
    }
  }

  /** One proxied connection: the client's socket and, unless blackholed, the server's. */
  private final class Link {
    final int number;
    final Socket client;
    final @Nullable Socket server;
    private final AtomicInteger halfClosed = new AtomicInteger();
    volatile boolean gone;
    /** Replies are dropped from now on. */
    volatile boolean deaf;
    /** Requests wait, not forwarded. Guarded by the proxy's lock. */
    boolean held;

    Link(int number, Socket client, @Nullable Socket server) {
      this.number = number;
      this.client = client;
      this.server = server;
    }

    /** One side ended its output: pass the end on; when both have, close the connection. */
    void halfClose(Socket to, boolean up) {
      try {
        to.shutdownOutput();
      } catch (IOException e) {
        // the other side is gone already
      }
      if (halfClosed.incrementAndGet() == 2) {
        close();
      }
      log.debug("fault proxy {}: connection {}: {} ended", port, number, up ? "client" : "server");
    }

    void reset() {
      if (gone) {
        return;
      }
      gone = true;
      resetQuietly(client);
      if (server != null) {
        resetQuietly(server);
      }
      links.remove(this);
      signal();
    }

    void close() {
      if (gone) {
        return;
      }
      gone = true;
      closeQuietly(client);
      if (server != null) {
        closeQuietly(server);
      }
      links.remove(this);
      signal();
    }
  }
}
