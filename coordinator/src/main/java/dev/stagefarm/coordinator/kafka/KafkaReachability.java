package dev.stagefarm.coordinator.kafka;

import dev.stagefarm.program.KafkaClientProperties;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

/** Whether Kafka answers this coordinator now (for its readiness): one admin client, asked on demand. */
public final class KafkaReachability implements AutoCloseable {
  private final String bootstrap;
  private final KafkaClientProperties security;
  private Admin admin;

  public KafkaReachability(String bootstrap, KafkaClientProperties security) {
    this.bootstrap = bootstrap;
    this.security = security;
  }

  /** Empty when the cluster described itself within {@code timeout}; else why not. */
  public synchronized Optional<String> problem(Duration timeout) {
    if (admin == null) {
      Properties props = new Properties();
      props.putAll(security.asMap());
      props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      props.put(AdminClientConfig.CLIENT_ID_CONFIG, "stagefarm-coordinator-readiness");
      props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(timeout.toMillis()));
      props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Long.toString(timeout.toMillis()));
      admin = Admin.create(props);
    }
    try {
      int nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs((int) timeout.toMillis()))
          .nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS).size();
      return nodes > 0 ? Optional.empty() : Optional.of("Kafka at " + bootstrap + " reports no brokers");
    } catch (ExecutionException e) {
      return Optional.of("Kafka at " + bootstrap + " unreachable: " + e.getCause());
    } catch (TimeoutException e) {
      return Optional.of("Kafka at " + bootstrap + " did not answer within " + timeout.toMillis() + " ms");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted while asking Kafka");
    }
  }

  @Override
  public synchronized void close() {
    if (admin != null) {
      admin.close(Duration.ofSeconds(2));
      admin = null;
    }
  }
}
