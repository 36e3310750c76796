package dev.fanout.k8s;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.Lock;
import java.time.ZonedDateTime;
import java.util.Objects;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * A fabric8 {@link Lock} that tells of each successful write that names this replica the
 * holder, with the renew time written (the time other replicas count the lease from).
 */
final class RenewalTrackingLock implements Lock {
  private final Lock delegate;
  private final Consumer<@Nullable ZonedDateTime> renewed;

  RenewalTrackingLock(Lock delegate, Consumer<@Nullable ZonedDateTime> renewed) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    this.renewed = Objects.requireNonNull(renewed, "renewed");
  }

  @Override
  public LeaderElectionRecord get(KubernetesClient client) {
    return delegate.get(client);
  }

  @Override
  public void create(KubernetesClient client, LeaderElectionRecord record) {
    delegate.create(client, record);
    written(record);
  }

  @Override
  public void update(KubernetesClient client, LeaderElectionRecord record) {
    delegate.update(client, record);
    written(record);
  }

  private void written(LeaderElectionRecord record) {
    if (identity().equals(record.getHolderIdentity())) {
      renewed.accept(record.getRenewTime());
    }
  }

  @Override
  public String identity() {
    return delegate.identity();
  }

  @Override
  public String describe() {
    return delegate.describe();
  }
}
