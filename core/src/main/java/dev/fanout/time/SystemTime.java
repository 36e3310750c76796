package dev.fanout.time;

/** The system's {@link Ticker} and {@link Sleeper}. */
enum SystemTime implements Ticker, Sleeper {
  INSTANCE;

  @Override
  public long read() {
    return System.nanoTime();
  }

  @Override
  public void sleep(long nanos) throws InterruptedException {
    if (nanos <= 0) {
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
      return;
    }
    Thread.sleep(nanos / 1_000_000, (int) (nanos % 1_000_000));
  }

  @Override
  public String toString() {
    return "SystemTime";
  }
}
