package dev.fanout.aws;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The customers a {@link RecipientAggregator} queries: code to role, region and contact list.
 * Made from a list, or read from YAML or JSON:
 *
 * {@snippet lang=yaml :
 * customers:
 *   acme:
 *     roleArn: arn:aws:iam::111111111111:role/ses-contacts-reader
 *     region: us-east-1
 *     contactList: main
 *   globex:
 *     roleArn: arn:aws:iam::222222222222:role/ses-contacts-reader
 *     region: eu-west-1
 *     contactList: newsletter
 * }
 *
 * A mapping that is malformed (not YAML, no {@code customers}, an unknown or missing field, a
 * bad ARN or region, a code twice) is rejected with a message that names the customer, the field
 * and the bad value. Immutable; customers keep the order they were given in.
 */
public final class CustomerMapping {
  private static final Set<String> FIELDS = Set.of("roleArn", "region", "contactList");

  private final Map<String, Customer> customers;

  private CustomerMapping(Map<String, Customer> customers) {
    this.customers = Collections.unmodifiableMap(customers);
  }

  /**
   * A mapping of the given customers.
   *
   * @throws IllegalArgumentException if it is empty or a code appears twice
   */
  public static CustomerMapping of(Collection<Customer> customers) {
    Objects.requireNonNull(customers, "customers must not be null");
    if (customers.isEmpty()) {
      throw new IllegalArgumentException("customer mapping must have at least one customer");
    }
    Map<String, Customer> byCode = new LinkedHashMap<>();
    for (Customer customer : customers) {
      Objects.requireNonNull(customer, "customers must not contain null");
      if (byCode.putIfAbsent(customer.code(), customer) != null) {
        throw new IllegalArgumentException(
            "customer mapping has customer '" + customer.code() + "' twice");
      }
    }
    return new CustomerMapping(byCode);
  }

  /** As {@link #of(Collection)}. */
  public static CustomerMapping of(Customer... customers) {
    return of(List.of(customers));
  }

  /**
   * Reads a mapping from YAML or JSON text (see the class documentation for the format).
   *
   * @throws IllegalArgumentException if it is malformed, saying where and why
   */
  public static CustomerMapping parse(String text) {
    Objects.requireNonNull(text, "text must not be null");
    Object document = YamlSupport.load(text, "customer mapping");
    if (!(document instanceof Map<?, ?> root)) {
      throw new IllegalArgumentException(
          "customer mapping must be a mapping with a 'customers' key, was "
              + (document == null ? "empty" : kind(document)));
    }
    Object entries = root.get("customers");
    if (!(entries instanceof Map<?, ?> byCode)) {
      throw new IllegalArgumentException(
          "customer mapping: 'customers' must be a mapping of customer code to its settings, was "
              + (entries == null ? "missing" : kind(entries)));
    }
    List<Customer> customers = new ArrayList<>();
    for (Map.Entry<?, ?> entry : byCode.entrySet()) {
      String code = String.valueOf(entry.getKey());
      String where = "customer mapping: customers." + code;
      if (!(entry.getValue() instanceof Map<?, ?> fields)) {
        throw new IllegalArgumentException(
            where + " must be a mapping with roleArn, region and contactList, was "
                + (entry.getValue() == null ? "empty" : kind(entry.getValue())));
      }
      for (Object key : fields.keySet()) {
        if (!FIELDS.contains(String.valueOf(key))) {
          throw new IllegalArgumentException(
              where + " has unknown field '" + key + "' (known: contactList, region, roleArn)");
        }
      }
      String roleArn = text(fields, "roleArn", where);
      String region = text(fields, "region", where);
      String contactList = text(fields, "contactList", where);
      try {
        customers.add(new Customer(code, roleArn, region, contactList));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("customer mapping: " + e.getMessage(), e);
      }
    }
    try {
      return of(customers);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          e.getMessage().startsWith("customer mapping") ? e.getMessage() : "customer mapping: " + e.getMessage(), e);
    }
  }

  /**
   * Reads a mapping from a YAML or JSON file.
   *
   * @throws IOException if the file cannot be read
   * @throws IllegalArgumentException if it is malformed
   */
  public static CustomerMapping load(Path file) throws IOException {
    Objects.requireNonNull(file, "file must not be null");
    try {
      return parse(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  private static String text(Map<?, ?> fields, String field, String where) {
    Object value = fields.get(field);
    if (value == null) {
      throw new IllegalArgumentException(where + "." + field + " is missing");
    }
    if (!(value instanceof String s)) {
      throw new IllegalArgumentException(
          where + "." + field + " must be a string, was " + kind(value) + " '" + value + "'");
    }
    return s;
  }

  /** What a parsed value is, with its article: "a mapping", "an integer". */
  private static String kind(Object value) {
    if (value instanceof Map) {
      return "a mapping";
    }
    if (value instanceof List) {
      return "a list";
    }
    String name = value.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
    return ("aeiou".indexOf(name.charAt(0)) >= 0 ? "an " : "a ") + name;
  }

  /** The customer codes, in order. */
  public List<String> codes() {
    return List.copyOf(customers.keySet());
  }

  /** The customers, in order. */
  public List<Customer> customers() {
    return List.copyOf(customers.values());
  }

  /** How many customers there are. */
  public int size() {
    return customers.size();
  }

  /** The customer with this code, or {@code null}. */
  public @Nullable Customer find(String code) {
    return customers.get(code);
  }

  /**
   * The customer with this code.
   *
   * @throws IllegalArgumentException if there is none, listing the known codes
   */
  public Customer customer(String code) {
    Customer customer = customers.get(Objects.requireNonNull(code, "code must not be null"));
    if (customer == null) {
      throw new IllegalArgumentException(
          "unknown customer code '" + code + "'; known: " + String.join(", ", customers.keySet()));
    }
    return customer;
  }

  @Override
  public String toString() {
    return "CustomerMapping" + customers.keySet();
  }
}
