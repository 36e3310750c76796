package dev.fanout.aws;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One customer's part of a {@link RecipientReport}.
 *
 * @param code the customer's code
 * @param recipients the opted-in email addresses as SES returned them (empty if it failed)
 * @param error why the customer failed, or {@code null} if it succeeded: an {@link
 *     AwsCallException} when {@code AssumeRole} or a {@code ListContacts} page failed for good;
 *     an {@link AwsPaginationException} when the contact listing did not end (a repeated token,
 *     or more pages than {@link RecipientAggregator.Builder#maxPages}); a {@link
 *     java.util.concurrent.CancellationException} when the deadline passed first; a {@link
 *     dev.fanout.TaskTimeoutException} when the customer's task ran past its timeout
 * @param elapsed how long the customer's query took
 */
public record CustomerRecipients(
    String code, List<String> recipients, @Nullable Throwable error, Duration elapsed) {

  /** Copies the list. */
  public CustomerRecipients {
    Objects.requireNonNull(code, "code must not be null");
    recipients = List.copyOf(recipients);
    Objects.requireNonNull(elapsed, "elapsed must not be null");
  }

  /** Whether the customer's recipients were gathered. */
  public boolean succeeded() {
    return error == null;
  }
}
