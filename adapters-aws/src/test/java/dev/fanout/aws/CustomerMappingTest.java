package dev.fanout.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CustomerMappingTest {

  static final String YAML =
      """
      customers:
        acme:
          roleArn: arn:aws:iam::111111111111:role/ses-contacts-reader
          region: us-east-1
          contactList: main
        globex:
          roleArn: arn:aws:iam::222222222222:role/path/ses-reader
          region: eu-west-1
          contactList: newsletter
      """;

  @Test
  void readsYamlInOrder() {
    CustomerMapping mapping = CustomerMapping.parse(YAML);
    assertThat(mapping.codes()).containsExactly("acme", "globex");
    Customer globex = mapping.customer("globex");
    assertThat(globex)
        .isEqualTo(new Customer("globex", "arn:aws:iam::222222222222:role/path/ses-reader", "eu-west-1", "newsletter"));
    assertThat(globex.accountId()).isEqualTo("222222222222");
  }

  @Test
  void readsJsonToo(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("customers.json");
    Files.writeString(
        file,
        """
        {"customers": {"acme": {"roleArn": "arn:aws:iam::111111111111:role/r",
                                "region": "us-east-1", "contactList": "main"}}}
        """);
    assertThat(CustomerMapping.load(file).codes()).containsExactly("acme");
  }

  @Test
  void malformedMappingsAreRejectedSayingWhereAndWhy() {
    assertRejected("customers: [a, b", "customer mapping is not valid YAML at line 1, column ");
    assertRejected("", "customer mapping must be a mapping with a 'customers' key, was empty");
    assertRejected("- a\n- b\n", "customer mapping must be a mapping with a 'customers' key, was a list");
    assertRejected("clients: {}\n", "customer mapping: 'customers' must be a mapping of customer code to its settings, was missing");
    assertRejected("customers: {}\n", "customer mapping must have at least one customer");
    assertRejected("customers:\n  acme: x\n", "customer mapping: customers.acme must be a mapping with roleArn, region and contactList, was a string");
    assertRejected(
        "customers:\n  acme: {roleArn: 'arn:aws:iam::111111111111:role/r', region: us-east-1}\n",
        "customer mapping: customers.acme.contactList is missing");
    assertRejected(
        "customers:\n  acme: {rolearn: x, region: us-east-1, contactList: main}\n",
        "customer mapping: customers.acme has unknown field 'rolearn' (known: contactList, region, roleArn)");
    assertRejected(
        "customers:\n  acme: {roleArn: 'arn:aws:iam::1111:role/r', region: us-east-1, contactList: main}\n",
        "customer mapping: customer 'acme': roleArn must be an IAM role ARN like arn:aws:iam::123456789012:role/name, was 'arn:aws:iam::1111:role/r'");
    assertRejected(
        "customers:\n  acme: {roleArn: 'arn:aws:iam::111111111111:role/r', region: mars-north-1, contactList: main}\n",
        "customer mapping: customer 'acme': region has unknown region 'mars-north-1'; known regions: ");
    assertRejected(
        "customers:\n  acme: {roleArn: 'arn:aws:iam::111111111111:role/r', region: us-east-1, contactList: 42}\n",
        "customer mapping: customers.acme.contactList must be a string, was an integer '42'");
    assertRejected(
        "customers:\n  acme: {roleArn: 'arn:aws:iam::111111111111:role/r', region: us-east-1, contactList: m}\n"
            + "  acme: {roleArn: 'arn:aws:iam::111111111111:role/r', region: us-east-1, contactList: m}\n",
        "customer mapping is not valid YAML at line 3, column 3: found duplicate key acme");
    assertRejected(
        "customers:\n  'bad code!': {roleArn: 'arn:aws:iam::111111111111:role/r', region: us-east-1, contactList: m}\n",
        "customer mapping: customer code must be 1 to 64 of [A-Za-z0-9_.-] starting with a letter or digit, was 'bad code!'");
  }

  @Test
  void listsRejectTwiceTheSameCode() {
    Customer acme = new Customer("acme", "arn:aws:iam::111111111111:role/r", "us-east-1", "main");
    assertThatThrownBy(() -> CustomerMapping.of(acme, acme))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("customer mapping has customer 'acme' twice");
  }

  private static void assertRejected(String text, String messageStart) {
    assertThatThrownBy(() -> CustomerMapping.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(messageStart);
  }
}
