package dev.fanout.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fanout.retry.RetryListener;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * No secret access key, session token or SSO token reaches a log line or an error message.
 *
 * <p>How logs are captured: slf4j-simple (the test binding) writes each line to whatever
 * {@code System.err} is at that moment, so the test swaps in a stream that keeps a copy (and
 * still writes through). The test configuration logs fanout and the whole SDK at DEBUG, and the
 * policies here log every retry, so the capture sees the most there is to see; it is checked to
 * contain those lines, so an empty capture cannot pass.
 *
 * <p>One logger is left at INFO: the SDK's SigV4 signer, which at DEBUG prints each canonical
 * request, {@code x-amz-security-token} included. That is the SDK's own output, which this
 * library cannot redact; docs/aws.md tells users to keep it off.
 */
class SecretsInLogsTest {
  static final String A = FakeAws.account(1);
  static final String B = FakeAws.account(2);
  static final String C = FakeAws.account(3);

  FakeAws aws;
  AwsClients clients;
  PrintStream originalErr;
  ByteArrayOutputStream captured;

  @BeforeEach
  void start() {
    aws = new FakeAws();
    clients = aws.clients();
    originalErr = System.err;
    captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(new Tee(captured, originalErr), true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void stop() {
    System.setErr(originalErr);
    clients.close();
    aws.close();
  }

  /** Writes to two streams. */
  static final class Tee extends OutputStream {
    private final OutputStream a;
    private final OutputStream b;

    Tee(OutputStream a, OutputStream b) {
      this.a = a;
      this.b = b;
    }

    @Override
    public void write(int c) throws java.io.IOException {
      a.write(c);
      b.write(c);
    }

    @Override
    public void write(byte[] bytes, int off, int len) throws java.io.IOException {
      a.write(bytes, off, len);
      b.write(bytes, off, len);
    }

    @Override
    public void flush() throws java.io.IOException {
      a.flush();
      b.flush();
    }
  }

  @Test
  void scansAndAggregationsLogNoSecret() throws Exception {
    SsoToken token = SsoToken.of(FakeAws.SSO_TOKEN);
    // SSO scan: A works after a throttled GetRoleCredentials; B's EKS fails; C has no role.
    aws.ssoAccounts(List.of(List.of(A, B), List.of(C)));
    aws.ssoRoles(A, List.of(List.of("ReadOnly")));
    aws.ssoRoles(B, List.of(List.of("ReadOnly")));
    aws.ssoRoles(C, List.of(List.of("Other")));
    aws.failThenSucceed(() -> aws.ssoCredentialsRequest(A, "ReadOnly"), FakeAws.ssoThrottle(), 2, aws.ssoCredentialsOk(A));
    aws.ssoCredentials(B, "ReadOnly");
    aws.eksClusters(A, "eu-west-1", List.of(List.of("a")));
    aws.alwaysFail(aws.listClustersRequest(B, "eu-west-1", null), FakeAws.serverError());
    var logged = RetryListener.logging(LoggerFactory.getLogger("dev.fanout.test.retries"));
    ScanReport sso =
        AccountScanner.builder(clients)
            .accounts(AccountSource.sso(token, "eu-west-1"))
            .credentials(AccountCredentials.sso(token, "eu-west-1", "ReadOnly"))
            .regions("eu-west-1")
            .config(TestPolicies.CONFIG)
            .retryPolicy(TestPolicies.fast(1).toBuilder().listener(logged).build())
            .build()
            .scan();
    assertThat(sso.failedAccounts()).containsExactly(B, C);

    // AssumeRole scan: A works, B denied.
    aws.server.resetAll();
    aws.assumeRole(A);
    aws.assumeRoleDenied(B);
    aws.eksClusters(A, "eu-west-1", List.of(List.of("a")));
    ScanReport assumed =
        AccountScanner.builder(clients)
            .accounts(AccountSource.of(A, B))
            .credentials(AccountCredentials.assumeRole("r"))
            .regions("eu-west-1")
            .config(TestPolicies.CONFIG)
            .retryPolicy(TestPolicies.fast(1).toBuilder().listener(logged).build())
            .build()
            .scan();
    assertThat(assumed.failedAccounts()).containsExactly(B);

    // Recipients: A works after a throttled ListContacts, B's SES resets the connection.
    aws.assumeRole(B);
    aws.sesContacts(A, "us-east-1", "main", List.of(List.of("x@example.com")));
    aws.failThenSucceed(
        () -> aws.listContactsRequest(A, "us-east-1", "main", null),
        FakeAws.sesThrottle(),
        2,
        aws.json("{\"Contacts\":[{\"EmailAddress\":\"x@example.com\"}]}"));
    aws.alwaysFail(aws.listContactsRequest(B, "us-east-1", "main", null), FakeAws.connectionReset());
    RecipientReport recipients =
        RecipientAggregator.builder(clients)
            .customers(
                CustomerMapping.of(
                    new Customer("a", "arn:aws:iam::" + A + ":role/r", "us-east-1", "main"),
                    new Customer("b", "arn:aws:iam::" + B + ":role/r", "us-east-1", "main")))
            .config(TestPolicies.CONFIG)
            .retryPolicy(TestPolicies.fast(1).toBuilder().listener(logged).build())
            .build()
            .aggregate("t");
    assertThat(recipients.summary()).isEqualTo("1 unique recipients from 2 customers (1 successful, 1 errors)");

    System.err.flush();
    String logs = captured.toString(StandardCharsets.UTF_8);
    // The capture did see the interesting lines.
    assertThat(logs)
        .contains("Parallel processing completed: 1 successful, 2 errors")
        .contains("Error in account " + B)
        .contains("Throttled, retry 1/10")
        .contains("Sending Request")
        .contains("DEBUG software.amazon.awssdk.core")
        .contains("Failed to get recipients for customer b")
        .contains("Aggregation complete: 1 unique recipients from 2 customers (1 successful, 1 errors)");

    List<String> everything = new ArrayList<>();
    everything.add(logs);
    for (ScanReport report : List.of(sso, assumed)) {
      everything.add(report.toString());
      report.failures().forEach(f -> everything.add(f.message() + " " + f + " " + stackOf(f.error())));
    }
    everything.add(recipients.toString());
    recipients.errors().values().forEach(e -> everything.add(stackOf(e)));

    for (String text : everything) {
      assertThat(text).doesNotContain(FakeAws.SSO_TOKEN, FakeAws.CALLER_SECRET);
      for (String account : List.of(A, B, C)) {
        assertThat(text).doesNotContain(FakeAws.secret(account), FakeAws.sessionToken(account));
      }
    }
  }

  private static String stackOf(Throwable t) {
    java.io.StringWriter out = new java.io.StringWriter();
    t.printStackTrace(new java.io.PrintWriter(out));
    return out.toString();
  }
}
