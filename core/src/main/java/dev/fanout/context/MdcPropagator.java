package dev.fanout.context;

import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.MDC;

/** {@link ContextPropagator#mdc()}: the submitter's MDC map, put back afterwards. */
enum MdcPropagator implements ContextPropagator {
  INSTANCE;

  @Override
  public @Nullable Object capture() {
    Map<String, String> map = MDC.getCopyOfContextMap();
    return map == null || map.isEmpty() ? null : map;
  }

  @Override
  @SuppressWarnings("unchecked")
  public Scope restore(@Nullable Object captured) {
    Map<String, String> before = MDC.getCopyOfContextMap();
    boolean hadNone = before == null || before.isEmpty();
    if (captured == null) {
      if (hadNone) {
        return Scope.NOTHING;
      }
      MDC.clear();
    } else {
      MDC.setContextMap((Map<String, String>) captured);
    }
    return hadNone ? MDC::clear : () -> MDC.setContextMap(before);
  }

  @Override
  public String toString() {
    return "ContextPropagator.mdc()";
  }
}
