/** The namespace watcher's engine: plan runner, reconciler, meters. Not API. */
@NullMarked
package dev.fanout.k8s.internal;

import org.jspecify.annotations.NullMarked;
