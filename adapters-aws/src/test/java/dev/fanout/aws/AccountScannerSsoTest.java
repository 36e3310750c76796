package dev.fanout.aws;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Scans whose accounts and credentials come from IAM Identity Center (SSO). */
class AccountScannerSsoTest {
  static final String A = FakeAws.account(1);
  static final String B = FakeAws.account(2);
  static final String C = FakeAws.account(3);
  static final SsoToken TOKEN = SsoToken.of(FakeAws.SSO_TOKEN);

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
  void listsAccountsAndRolesAcrossPagesAndUsesThePreferredRole() throws Exception {
    aws.ssoAccounts(List.of(List.of(A), List.of(B, C)));
    aws.ssoRoles(A, List.of(List.of("Billing"), List.of("ReadOnly", "Admin")));
    aws.ssoRoles(B, List.of(List.of("Admin")));
    aws.ssoRoles(C, List.of(List.of("Billing")));
    aws.ssoCredentials(A, "ReadOnly");
    aws.ssoCredentials(B, "Admin");
    for (String account : List.of(A, B)) {
      aws.eksClusters(account, "eu-west-1", List.of(List.of("k8s-" + account)));
    }

    ScanReport report =
        AccountScanner.builder(clients)
            .accounts(AccountSource.sso(TOKEN, "eu-west-1"))
            .credentials(AccountCredentials.sso(TOKEN, "eu-west-1", "ReadOnly", "Admin"))
            .regions("eu-west-1")
            .config(TestPolicies.CONFIG)
            .retryPolicy(TestPolicies.fast(1))
            .build()
            .scan();

    assertThat(report.accounts()).extracting(Account::id).containsExactly(A, B, C);
    assertThat(report.accounts().get(1).name()).isEqualTo("acct-" + B);
    assertThat(report.clusters()).extracting(EksCluster::name).containsExactly("k8s-" + A, "k8s-" + B);
    assertThat(report.failedAccounts()).containsExactly(C);
    ScanFailure noRole = report.failures().getFirst();
    assertThat(noRole.stage()).isEqualTo(ScanFailure.Stage.CREDENTIALS);
    assertThat(noRole.message())
        .isEqualTo(
            "account " + C + ": IllegalStateException: account " + C
                + " has none of the SSO roles [ReadOnly, Admin]; it has [Billing]");
    assertThat(aws.count("SsoListAccounts")).isEqualTo(2);
    assertThat(aws.count("ListAccountRoles")).isEqualTo(2 + 1 + 1);
    assertThat(aws.count("GetRoleCredentials")).isEqualTo(2);
    // EKS calls were signed with the role credentials SSO handed out for each account.
    assertThat(aws.seen()).filteredOn(s -> s.operation().equals("ListClusters"))
        .extracting(s -> s.scope().accountId())
        .containsExactlyInAnyOrder(A, B);
  }

  @Test
  void withoutPreferredNamesTheOnlyRoleIsUsedAndSeveralAreAnError() throws Exception {
    aws.ssoRoles(A, List.of(List.of("Only")));
    aws.ssoRoles(B, List.of(List.of("One", "Two")));
    aws.ssoCredentials(A, "Only");
    aws.eksClusters(A, "eu-west-1", List.of(List.of()));

    ScanReport report =
        AccountScanner.builder(clients)
            .accounts(AccountSource.of(A, B))
            .credentials(AccountCredentials.sso(TOKEN, "eu-west-1"))
            .regions("eu-west-1")
            .config(TestPolicies.CONFIG)
            .retryPolicy(TestPolicies.fast(1))
            .build()
            .scan();

    assertThat(report.failedAccounts()).containsExactly(B);
    assertThat(report.failures().getFirst().error())
        .hasMessage(
            "account " + B + " has 2 SSO roles [One, Two]; name the one to use with "
                + "AccountCredentials.sso(token, region, roleNames...)");
  }
}
