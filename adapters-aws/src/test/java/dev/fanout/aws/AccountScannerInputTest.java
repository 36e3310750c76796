package dev.fanout.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Bad input fails before any call, with a message that names the field and the value. */
class AccountScannerInputTest {
  FakeAws aws;
  AwsClients clients;

  @BeforeEach
  void start() {
    aws = new FakeAws();
    clients = aws.clients();
  }

  @AfterEach
  void stop() {
    clients.close();
    aws.close();
  }

  @Test
  void anEmptyAccountListIsRejected() {
    assertThatThrownBy(() -> AccountSource.of(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("accounts must not be empty: there is nothing to scan");
  }

  @Test
  void malformedOrRepeatedAccountIdsAreRejected() {
    assertThatThrownBy(() -> AccountSource.of("111111111111", "12345"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("accountIds[1] must be a 12-digit AWS account id, was '12345'");
    assertThatThrownBy(() -> AccountSource.of("111111111111", "111111111111"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("accounts must be distinct, but 111111111111 appears twice (index 1)");
  }

  @Test
  void unknownRegionsAreRejected() {
    AccountScanner.Builder builder = AccountScanner.builder(clients);
    assertThatThrownBy(() -> builder.regions("eu-west-1", "eu-wset-1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("regions[1] has unknown region 'eu-wset-1'; known regions: ")
        .hasMessageContaining("eu-west-1");
    assertThatThrownBy(() -> builder.regions(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("regions must not be empty");
    assertThatThrownBy(() -> builder.regions("eu-west-1", "eu-west-1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("regions must be distinct, but eu-west-1 appears twice (regions[1])");
    assertThatThrownBy(() -> AccountSource.sso(SsoToken.of("t"), "nowhere-1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("region has unknown region 'nowhere-1'");
    assertThatThrownBy(() -> AccountCredentials.assumeRole("r").withStsRegion("us-east-9"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("stsRegion has unknown region 'us-east-9'");
  }

  @Test
  void missingSettingsAndBadRoleNamesAreRejected() {
    assertThatThrownBy(() -> AccountScanner.builder(clients).regions("eu-west-1").credentials(AccountCredentials.caller()).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("accounts not set");
    assertThatThrownBy(() -> AccountScanner.builder(clients).regions("eu-west-1").accounts(AccountSource.of("111111111111")).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("credentials not set");
    assertThatThrownBy(() -> AccountScanner.builder(clients).accounts(AccountSource.of("111111111111")).credentials(AccountCredentials.caller()).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("regions not set");
    assertThatThrownBy(() -> AccountCredentials.assumeRole("bad role"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("roleName must be an IAM role name such as OrganizationAccountAccessRole, was 'bad role'");
    assertThatThrownBy(() -> AccountCredentials.assumeRole("r").withDuration(Duration.ofMinutes(5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("duration must be between 15 minutes and 12 hours, was PT5M");
    assertThatThrownBy(() -> SsoToken.of(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("accessToken must not be blank");
  }

  @Test
  void anOrganizationWithNoAcceptedAccountIsAClearError() {
    aws.organizationAccounts(List.of(List.of("111111111111")));
    AccountScanner scanner =
        AccountScanner.builder(clients)
            .accounts(AccountSource.organization())
            .accountFilter(a -> false)
            .credentials(AccountCredentials.caller())
            .regions("eu-west-1")
            .config(TestPolicies.CONFIG)
            .build();
    assertThatThrownBy(scanner::scan)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("no accounts to scan: Organizations ListAccounts listed no account that the filter accepts");
  }

  @Test
  void accountsThatCannotBeListedFailTheScan() {
    aws.alwaysFail(aws.listAccountsRequest(null), FakeAws.restJsonError(400, "AccessDeniedException", "not the management account"));
    AccountScanner scanner =
        AccountScanner.builder(clients)
            .accounts(AccountSource.organization())
            .credentials(AccountCredentials.caller())
            .regions("eu-west-1")
            .config(TestPolicies.CONFIG)
            .build();
    assertThatThrownBy(scanner::scan)
        .isInstanceOf(AwsCallException.class)
        .hasMessageStartingWith(
            "organizations ListAccounts failed in caller/us-east-1/organizations after 1 attempt, not retryable: AccessDeniedException: not the management account");
  }

  @Test
  void ssoTokensNeverShowInToString() {
    SsoToken token = SsoToken.of("very-secret");
    assertThat(token.toString()).isEqualTo("SsoToken[redacted]");
    assertThat(AccountSource.sso(token, "eu-west-1").toString()).doesNotContain("very-secret");
    assertThat(AccountCredentials.sso(token, "eu-west-1", "R").toString()).doesNotContain("very-secret");
  }
}
