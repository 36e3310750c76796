package dev.fanout.aws;

import java.util.HashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A paginated listing, page by page, each page its own call (its own gate pass and retries), so
 * a throttled fifth page is retried alone instead of the listing starting over.
 */
final class Pages {
  /**
   * Pages per listing unless set: 1,000 pages are 20,000 Organizations accounts, 100,000 EKS
   * clusters of one region or a million SES contacts, and take 100 s at the default 100 ms
   * spacing, well inside the default 5 min deadline.
   */
  static final int DEFAULT_MAX_PAGES = 1_000;

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

  /** Checks a page cap given to a builder. */
  static int requireMaxPages(int maxPages) {
    if (maxPages < 1) {
      throw new IllegalArgumentException("maxPages must be at least 1, was " + maxPages);
    }
    return maxPages;
  }

  /**
   * Fetches every page, at most {@code maxPages}, handing each to {@code each}.
   *
   * @throws AwsPaginationException if the service returns a token it returned before (a loop),
   *     or still returns a next token on page {@code maxPages}
   */
  static <P> int forEach(
      String what, int maxPages, Fetch<P> fetch, NextToken<P> next, Each<P> each)
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
        throw new AwsPaginationException(
            what, AwsPaginationException.Reason.REPEATED_TOKEN, pages, maxPages);
      }
      if (pages >= maxPages && token != null) {
        throw new AwsPaginationException(
            what, AwsPaginationException.Reason.TOO_MANY_PAGES, pages, maxPages);
      }
    } while (token != null);
    return pages;
  }
}
