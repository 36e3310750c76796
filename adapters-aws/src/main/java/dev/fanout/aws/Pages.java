package dev.fanout.aws;

import java.util.HashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A paginated listing, page by page, each page its own call (its own gate pass and retries), so
 * a throttled fifth page is retried alone instead of the listing starting over.
 */
final class Pages {
  /** More pages than any real listing has: a server that never stops is a bug, not data. */
  static final int MAX_PAGES = 100_000;

  private Pages() {}

  /** Fetches one page given the previous page's token ({@code null} for the first). */
  @FunctionalInterface
  interface Fetch<P> {
    P fetch(@Nullable String token) throws InterruptedException;
  }

  /** Reads the next token of a page; {@code null} or empty on the last page. */
  @FunctionalInterface
  interface NextToken<P> {
    @Nullable String of(P page);
  }

  /** Takes a page's items. */
  @FunctionalInterface
  interface Each<P> {
    void accept(P page) throws InterruptedException;
  }

  /**
   * Fetches every page, handing each to {@code each}.
   *
   * @throws IllegalStateException if the service returns a token it returned before (a loop)
   */
  static <P> int forEach(String what, Fetch<P> fetch, NextToken<P> next, Each<P> each)
      throws InterruptedException {
    Set<String> seen = new HashSet<>();
    String token = null;
    int pages = 0;
    do {
      P page = fetch.fetch(token);
      pages++;
      each.accept(page);
      token = next.of(page);
      if (token != null && token.isEmpty()) {
        token = null;
      }
      if (token != null && !seen.add(token)) {
        throw new IllegalStateException(
            what + " returned a pagination token it had returned before, after page " + pages);
      }
      if (pages >= MAX_PAGES && token != null) {
        throw new IllegalStateException(what + " returned more than " + MAX_PAGES + " pages");
      }
    } while (token != null);
    return pages;
  }
}
