package dev.fanout.jdbc;

import dev.fanout.testing.postgres.PostgresServer;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives tests one PostgreSQL server per test run: started on first use (from the machine's
 * PostgreSQL binaries, on 127.0.0.1), stopped and deleted when the run ends. If it cannot start,
 * the test fails with the server's log — it never skips.
 */
final class PostgresExtension implements ParameterResolver {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(PostgresExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == PostgresServer.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return server(context);
  }

  static PostgresServer server(ExtensionContext context) {
    // The root store is closed when the whole run ends; PostgresServer is AutoCloseable.
    return context
        .getRoot()
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent(
            PostgresServer.class, k -> PostgresServer.start(), PostgresServer.class);
  }
}
