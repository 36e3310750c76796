package dev.fanout.aws;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The recipients of a topic across customers: de-duplicated without regard to letter case, with
 * every customer's own count or error, and a one-line summary
 * {@code 150 unique recipients from 5 customers (4 successful, 1 errors)}.
 *
 * @param topic the topic queried
 * @param recipients the unique addresses, ordered case-insensitively; each in the spelling of
 *     the first customer (in mapping order) that had it
 * @param customers each customer's part, in the order the customers were given
 * @param stats the calls made
 * @param elapsed wall time
 * @param dryRun whether this was a dry run: nothing was called, every customer's part is empty
 */
public record RecipientReport(
    String topic,
    List<String> recipients,
    List<CustomerRecipients> customers,
    CallStats stats,
    Duration elapsed,
    boolean dryRun) {

  /** Copies the lists. */
  public RecipientReport {
    Objects.requireNonNull(topic, "topic must not be null");
    recipients = List.copyOf(recipients);
    customers = List.copyOf(customers);
    Objects.requireNonNull(stats, "stats must not be null");
    Objects.requireNonNull(elapsed, "elapsed must not be null");
  }

  /** How many customers' recipients were gathered. */
  public int succeeded() {
    return (int) customers.stream().filter(CustomerRecipients::succeeded).count();
  }

  /** How many customers failed. */
  public int failed() {
    return customers.size() - succeeded();
  }

  /** Each failed customer's error, by code, in customer order. */
  public Map<String, Throwable> errors() {
    Map<String, Throwable> errors = new LinkedHashMap<>();
    for (CustomerRecipients c : customers) {
      if (c.error() != null) {
        errors.put(c.code(), c.error());
      }
    }
    return Collections.unmodifiableMap(errors);
  }

  /**
   * {@code 150 unique recipients from 5 customers (4 successful, 1 errors)}; for a dry run,
   * {@code dry run: would query topic 'aws-calendar' from 5 customers}.
   */
  public String summary() {
    if (dryRun) {
      return "dry run: would query topic '" + topic + "' from " + customers.size() + " customers";
    }
    return recipients.size()
        + " unique recipients from "
        + customers.size()
        + " customers ("
        + succeeded()
        + " successful, "
        + failed()
        + " errors)";
  }

  @Override
  public String toString() {
    return "RecipientReport[" + summary() + "]";
  }
}
