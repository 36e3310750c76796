package dev.fanout.testing.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The proxy between a client and a tiny echo server, one fault at a time. */
class FaultProxyTest {
  private static final Duration QUIET = Duration.ofMillis(300);

  private EchoServer echo;
  private FaultProxy proxy;
  private final List<Socket> clients = new ArrayList<>();

  @BeforeEach
  void start() throws IOException {
    echo = new EchoServer();
    proxy = FaultProxy.start("127.0.0.1", echo.port());
  }

  @AfterEach
  void stop() throws IOException {
    for (Socket s : clients) {
      s.close();
    }
    proxy.close();
    echo.close();
  }

  @Test
  void passesThroughBothWays() throws IOException {
    Socket c = connect();
    assertThat(roundTrip(c, "hello")).isEqualTo("hello");
    assertThat(roundTrip(c, "again")).isEqualTo("again");
    assertThat(proxy.connections()).isEqualTo(1);
    assertThat(proxy.host()).isEqualTo("127.0.0.1");
  }

  @Test
  void delaysEachChunk() throws IOException {
    Socket c = connect();
    roundTrip(c, "warm");
    proxy.delay(Duration.ofMillis(150));
    long start = System.nanoTime();
    assertThat(roundTrip(c, "slow")).isEqualTo("slow");
    // One chunk each way, each held back 150 ms.
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(300));
    proxy.passThrough();
    assertThat(roundTrip(c, "fast")).isEqualTo("fast");
  }

  @Test
  void stallKeepsTheConnectionOpenAndDeliversLateWhenPassingThroughAgain() throws IOException {
    Socket c = connect();
    roundTrip(c, "before");
    proxy.stall();
    send(c, "late");
    assertNoReplyWithin(c, QUIET);
    assertThat(echo.received()).doesNotContain("late");
    assertThat(proxy.connections()).isEqualTo(1);

    proxy.passThrough();
    assertThat(read(c, 4)).isEqualTo("late");
  }

  @Test
  void resetClosesEveryConnectionWithATcpResetAndAcceptsNewOnes() throws IOException {
    Socket a = connect();
    Socket b = connect();
    roundTrip(a, "a");
    roundTrip(b, "b");

    assertThat(proxy.resetAll()).isEqualTo(2);

    for (Socket s : List.of(a, b)) {
      s.setSoTimeout(5000);
      assertThatThrownBy(() -> s.getInputStream().read())
          .isInstanceOf(SocketException.class)
          .hasMessageContaining("reset");
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> echo.open() == 0);
    assertThat(roundTrip(connect(), "next")).isEqualTo("next");
  }

  @Test
  void blackholeReadsAndDropsWithoutReachingTheTarget() throws IOException {
    proxy.blackhole();
    int before = echo.accepted();
    Socket c = connect();
    send(c, "into the void");
    assertNoReplyWithin(c, QUIET);
    assertThat(echo.accepted()).isEqualTo(before);
    assertThat(proxy.connections()).isEqualTo(1);

    proxy.passThrough();
    assertThat(roundTrip(connect(), "back")).isEqualTo("back");
  }

  @Test
  void losesTheRepliesAfterTheMarkedRequestOnItsConnectionOnly() throws IOException {
    Socket c = connect();
    Socket other = connect();
    roundTrip(c, "BEGIN");
    FaultProxy.Trigger lost = proxy.loseRepliesAfter("COMMIT");
    assertThat(lost.fired()).isFalse();
    assertThat(roundTrip(c, "SELECT")).as("requests without the marker pass").isEqualTo("SELECT");

    send(c, "COMMIT");
    await().atMost(Duration.ofSeconds(5)).until(() -> echo.received().contains("COMMIT"));
    assertThat(lost.fired()).isTrue();
    assertNoReplyWithin(c, QUIET);
    send(c, "more");
    assertNoReplyWithin(c, QUIET);
    assertThat(roundTrip(other, "COMMIT")).as("one shot, one connection").isEqualTo("COMMIT");
  }

  @Test
  void holdsTheMarkedRequestUntilPassThroughWhileOtherConnectionsGoOn() throws IOException {
    Socket c = connect();
    Socket other = connect();
    FaultProxy.Trigger held = proxy.holdNext("UPDATE");
    send(c, "UPDATE x");
    await().atMost(Duration.ofSeconds(5)).until(held::fired);
    assertThat(roundTrip(other, "SELECT")).isEqualTo("SELECT");
    assertNoReplyWithin(c, QUIET);
    assertThat(echo.received()).doesNotContain("UPDATE x");

    proxy.passThrough();
    assertThat(read(c, 8)).isEqualTo("UPDATE x");
  }

  @Test
  void heldRequestIsDroppedByAReset() throws IOException {
    Socket c = connect();
    FaultProxy.Trigger held = proxy.holdNext("UPDATE");
    send(c, "UPDATE y");
    await().atMost(Duration.ofSeconds(5)).until(held::fired);
    proxy.resetAll();
    proxy.passThrough();
    await().atMost(Duration.ofSeconds(5)).until(() -> echo.open() == 0);
    assertThat(echo.received()).doesNotContain("UPDATE y");
  }

  @Test
  void stopListeningRefusesAndResetsThenListensAgainOnTheSamePort() throws IOException {
    Socket c = connect();
    roundTrip(c, "up");
    int port = proxy.port();

    proxy.stopListening();
    c.setSoTimeout(5000);
    assertThatThrownBy(() -> c.getInputStream().read()).isInstanceOf(SocketException.class);
    assertThatThrownBy(this::connect).isInstanceOf(ConnectException.class);

    proxy.startListening();
    assertThat(proxy.port()).isEqualTo(port);
    assertThat(roundTrip(connect(), "up again")).isEqualTo("up again");
  }

  @Test
  void noConnectionAcceptedBeforeStopListeningSurvivesIt() throws Exception {
    // Clients connect all the time, so that some are accepted and still being set up when the
    // listener stops: those must be reset too, not join the open connections afterwards.
    for (int round = 0; round < 10; round++) {
      List<Socket> connected = new java.util.concurrent.CopyOnWriteArrayList<>();
      java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
      List<Thread> connectors = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        connectors.add(
            Thread.ofPlatform()
                .start(
                    () -> {
                      while (!stop.get()) {
                        Socket s = new Socket();
                        try {
                          s.connect(new InetSocketAddress(proxy.host(), proxy.port()), 200);
                          connected.add(s);
                        } catch (IOException refused) {
                          closeQuietly(s);
                        }
                      }
                    }));
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> connected.size() >= 20);
      proxy.stopListening();
      stop.set(true);
      for (Thread t : connectors) {
        t.join();
      }
      for (Socket s : connected) {
        // Reset, or never accepted by the proxy (left in the listener's queue): either way no
        // echo comes back.
        s.setSoTimeout(500);
        assertThatThrownBy(() -> roundTrip(s, "late"))
            .as("round %d, a connection accepted before the listener stopped", round)
            .isInstanceOf(IOException.class);
        s.close();
      }
      assertThat(proxy.connections()).isZero();
      proxy.startListening();
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // nothing to do
    }
  }

  @Test
  void closeEndsEveryThreadOfTheProxy() throws IOException {
    int baseline = Thread.activeCount();
    List<Socket> many = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      Socket s = connect();
      roundTrip(s, "n" + i);
      many.add(s);
    }
    proxy.stall();
    send(many.get(0), "stuck");
    proxy.holdNext("x");
    assertThat(proxy.threads()).isEqualTo(1 + 2 * 10);

    proxy.close();

    assertThat(proxy.threads()).isZero();
    String prefix = "fault-proxy-" + proxy.port() + "-";
    assertThat(Thread.getAllStackTraces().keySet())
        .noneMatch(t -> t.getName().startsWith(prefix));
    // The echo server's handlers end too, once the proxy's resets reach them.
    await()
        .pollInSameThread()
        .atMost(Duration.ofSeconds(5))
        .until(() -> Thread.activeCount() <= baseline);
    proxy.close(); // idempotent
    assertThatThrownBy(proxy::startListening).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void rejectsBadArguments() {
    assertThatThrownBy(() -> FaultProxy.start("127.0.0.1", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("targetPort")
        .hasMessageContaining("0");
    assertThatThrownBy(() -> proxy.delay(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("perChunk");
    assertThatThrownBy(() -> proxy.holdNext(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("marker");
  }

  // ---------------------------------------------------------------------------------------------

  private Socket connect() throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress(proxy.host(), proxy.port()), 5000);
    s.setSoTimeout(5000);
    clients.add(s);
    return s;
  }

  private static void send(Socket s, String text) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(text.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  private static String read(Socket s, int length) throws IOException {
    byte[] bytes = s.getInputStream().readNBytes(length);
    return new String(bytes, StandardCharsets.US_ASCII);
  }

  private static String roundTrip(Socket s, String text) throws IOException {
    send(s, text);
    return read(s, text.length());
  }

  private static void assertNoReplyWithin(Socket s, Duration quiet) throws IOException {
    int before = s.getSoTimeout();
    s.setSoTimeout((int) quiet.toMillis());
    try {
      assertThatThrownBy(() -> s.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
    } finally {
      s.setSoTimeout(before);
    }
  }

  /** Echoes every chunk back; records what it received, as text. */
  private static final class EchoServer implements AutoCloseable {
    private final ServerSocket socket;
    private final Thread acceptor;
    private final ConcurrentLinkedQueue<Thread> handlers = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Socket> sockets = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> received = new ConcurrentLinkedQueue<>();
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();

    EchoServer() throws IOException {
      socket = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
      acceptor = Thread.ofPlatform().name("echo-accept").start(this::acceptLoop);
    }

    int port() {
      return socket.getLocalPort();
    }

    int accepted() {
      return accepted.get();
    }

    int open() {
      return open.get();
    }

    String received() {
      return String.join("", received);
    }

    private void acceptLoop() {
      while (true) {
        Socket s;
        try {
          s = socket.accept();
        } catch (IOException e) {
          return;
        }
        accepted.incrementAndGet();
        open.incrementAndGet();
        sockets.add(s);
        handlers.add(Thread.ofPlatform().name("echo-" + accepted.get()).start(() -> echo(s)));
      }
    }

    private void echo(Socket s) {
      byte[] buffer = new byte[8192];
      try (s;
          InputStream in = s.getInputStream();
          OutputStream out = s.getOutputStream()) {
        int n;
        while ((n = in.read(buffer)) >= 0) {
          received.add(new String(buffer, 0, n, StandardCharsets.US_ASCII));
          out.write(buffer, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // reset by the proxy
      } finally {
        open.decrementAndGet();
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
      for (Socket s : sockets) {
        s.close();
      }
      try {
        acceptor.join(5000);
        for (Thread t : handlers) {
          t.join(5000);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
