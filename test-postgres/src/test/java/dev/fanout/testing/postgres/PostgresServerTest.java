package dev.fanout.testing.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class PostgresServerTest {

  @Test
  void startsOnLoopbackSurvivesARestartAndCleansUp() throws Exception {
    Path data;
    try (PostgresServer server = PostgresServer.start()) {
      assertThat(server.host()).isEqualTo("127.0.0.1");
      assertThat(query(server.jdbcUrl(), "SELECT inet_server_addr()::text"))
          .startsWith("127.0.0.1");
      String url = server.createDatabase("fanout_test");
      try (Connection c = DriverManager.getConnection(url);
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE t (id int primary key)");
        s.execute("INSERT INTO t VALUES (1)");
      }

      server.restart();

      assertThat(query(url, "SELECT count(*)::text FROM t")).isEqualTo("1");
      data = Path.of(query(server.jdbcUrl(), "SHOW data_directory"));
      assertThat(data).exists();
    }
    assertThat(data).doesNotExist();
  }

  @Test
  void stoppedServerRefusesConnectionsUntilStartedAgain() throws Exception {
    try (PostgresServer server = PostgresServer.start()) {
      server.stop();
      assertThat(server.isRunning()).isFalse();
      assertThatThrownBy(
              () -> new Socket(InetAddress.getByName("127.0.0.1"), server.port()).close())
          .isInstanceOf(java.net.ConnectException.class);

      server.startAgain();

      assertThat(query(server.jdbcUrl(), "SELECT 'up'")).isEqualTo("up");
    }
  }

  @Test
  void rejectsDatabaseNamesThatAreNotPlainIdentifiers() {
    assertThatThrownBy(() -> PostgresServer.shared().createDatabase("x; DROP DATABASE postgres"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("x; DROP DATABASE postgres");
  }

  private static String query(String url, String sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(url);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
