/** AWS adapters for fanout: multi-account scans and customer recipient aggregation. */
// Exports its API package once the adapter lands; until then it only re-exports the core.
module dev.fanout.aws {
  requires transitive dev.fanout.core;

}
