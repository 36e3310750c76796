package dev.fanout.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * close() with a step that ignores interruption: it returns after the shutdown timeout plus the
 * cancel grace, and reports the step that still runs until it ends.
 */
@EnableKubernetesMockClient(crud = true)
class NamespaceWatcherShutdownTest {
  KubernetesClient client;

  @Test
  void closeReportsAStepThatIgnoresInterruptionUntilItEnds() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger interrupts = new AtomicInteger();
    StepAction stubborn =
        ctx -> {
          started.countDown();
          while (true) {
            try {
              release.await();
              return;
            } catch (InterruptedException e) {
              interrupts.incrementAndGet(); // ignored on purpose
            }
          }
        };
    TrackingThreadFactory threads = new TrackingThreadFactory();
    NamespaceWatcher watcher =
        NamespaceWatcher.builder(client)
            .creationPlan(ProvisioningPlan.builder("tenant", "1").step("certificate", stubborn).build())
            .shutdownTimeout(Duration.ofMillis(300))
            .cancelGrace(Duration.ofMillis(300))
            .threadFactory(threads)
            .build();
    watcher.start();
    await().until(() -> watcher.status().synced());
    new WatcherFixture(client).create("test101");
    started.await();

    long begin = System.nanoTime();
    watcher.close();
    Duration took = Duration.ofNanos(System.nanoTime() - begin);

    assertThat(took).as("shutdown timeout + cancel grace, plus slack").isLessThan(Duration.ofSeconds(5));
    assertThat(interrupts.get()).as("the step was interrupted").isPositive();
    assertThat(threads.alive()).as("only the stubborn step's thread").hasSize(1);
    assertThat(watcher.stillRunning()).containsExactly("test101/certificate");

    release.countDown();
    await().until(() -> threads.alive().isEmpty());
    assertThat(watcher.stillRunning()).isEmpty();
  }
}
