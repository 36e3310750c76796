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
 * @param error why the customer failed, or {@code null} if it succeeded
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
