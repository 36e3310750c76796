package dev.fanout.internal;

import dev.fanout.Progress;
import dev.fanout.ProgressListener;

/** {@link ProgressListener#none()}: a singleton, so the pool can skip building progress. */
public enum NoProgress implements ProgressListener {
  INSTANCE;

  @Override
  public void onProgress(Progress progress) {}
}
