/**
 * fanout core: typed fan-out / fan-in of I/O-bound work.
 *
 * <p>Only API packages are exported to everyone; {@code dev.fanout.internal} holds the
 * implementation, and the kit the adapter modules share with the core (meters, names, cause-chain
 * search) is exported to them alone.
 */
module dev.fanout.core {
  requires transitive org.slf4j;
  requires transitive micrometer.core;
  requires static org.jspecify;

  exports dev.fanout;
  exports dev.fanout.breaker;
  exports dev.fanout.bulkhead;
  exports dev.fanout.chunk;
  exports dev.fanout.context;
  exports dev.fanout.lease;
  exports dev.fanout.rate;
  exports dev.fanout.retry;
  exports dev.fanout.time;
  exports dev.fanout.internal to
      dev.fanout.jdbc,
      dev.fanout.k8s,
      dev.fanout.aws;
}
