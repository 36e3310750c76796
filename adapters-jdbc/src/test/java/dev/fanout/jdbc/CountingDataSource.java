package dev.fanout.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/**
 * A data source that counts the statements its connections execute ({@code executeUpdate} and
 * {@code executeQuery} of prepared statements), and can make the first {@link #failNext} of them
 * throw a given {@link SQLException} instead, as a database would (before running the statement).
 */
final class CountingDataSource {
  final AtomicInteger executed = new AtomicInteger();
  final AtomicInteger failNext = new AtomicInteger();
  volatile SQLException failure = new SQLException("deadlock detected", "40P01");
  final DataSource dataSource;

  CountingDataSource(DataSource target) {
    this.dataSource =
        proxy(
            DataSource.class,
            target,
            (name, result) ->
                name.equals("getConnection") ? connection((Connection) result) : result);
  }

  private Connection connection(Connection target) {
    return proxy(
        Connection.class,
        target,
        (name, result) ->
            name.equals("prepareStatement") ? statement((PreparedStatement) result) : result);
  }

  private PreparedStatement statement(PreparedStatement target) {
    InvocationHandler handler =
        (proxy, method, args) -> {
          String name = method.getName();
          if (name.equals("executeUpdate") || name.equals("executeQuery")) {
            executed.incrementAndGet();
            if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
              throw failure;
            }
          }
          return invoke(target, method, args);
        };
    return (PreparedStatement)
        Proxy.newProxyInstance(
            PreparedStatement.class.getClassLoader(),
            new Class<?>[] {PreparedStatement.class},
            handler);
  }

  @FunctionalInterface
  private interface Wrap {
    Object wrap(String method, Object result);
  }

  private static <T> T proxy(Class<T> type, T target, Wrap wrap) {
    InvocationHandler handler =
        (proxy, method, args) -> {
          Object result = invoke(target, method, args);
          return result == null ? null : wrap.wrap(method.getName(), result);
        };
    return type.cast(
        Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, handler));
  }

  private static Object invoke(Object target, java.lang.reflect.Method method, Object[] args)
      throws Throwable {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
