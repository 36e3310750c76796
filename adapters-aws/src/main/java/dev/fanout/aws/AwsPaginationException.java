package dev.fanout.aws;

import java.util.Objects;

/**
 * A paginated listing that did not end: the service handed back a token it had handed out
 * before (a loop), or kept handing out fresh tokens past the page cap ({@link
 * AccountScanner.Builder#maxPages}, {@link RecipientAggregator.Builder#maxPages}). Either is a
 * fault of the service or of something between it and the caller, not data: a real listing ends.
 * The pages read before are dropped, so a truncated listing is never taken for a whole one.
 *
 * <p>An {@link IllegalStateException}, as the listing was before this type existed.
 */
public final class AwsPaginationException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /** Why the listing was given up. */
  public enum Reason {
    /** The service returned a pagination token it had returned before. */
    REPEATED_TOKEN,
    /** The service still returned a next token after the page cap. */
    TOO_MANY_PAGES
  }

  private final String listing;
  private final Reason reason;
  private final int pages;

  AwsPaginationException(String listing, Reason reason, int pages, int maxPages) {
    super(message(listing, reason, pages, maxPages));
    this.listing = Objects.requireNonNull(listing, "listing");
    this.reason = Objects.requireNonNull(reason, "reason");
    this.pages = pages;
  }

  private static String message(String listing, Reason reason, int pages, int maxPages) {
    return switch (reason) {
      case REPEATED_TOKEN ->
          listing + " returned a pagination token it had returned before, after page " + pages;
      case TOO_MANY_PAGES ->
          listing
              + " returned more than "
              + maxPages
              + " pages (the page cap, maxPages): gave up after page "
              + pages;
    };
  }

  /** The listing, such as {@code EKS ListClusters in 123456789012/eu-west-1}. */
  public String listing() {
    return listing;
  }

  /** Why it was given up. */
  public Reason reason() {
    return reason;
  }

  /** How many pages were read before giving up. */
  public int pages() {
    return pages;
  }
}
