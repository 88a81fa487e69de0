package dev.stagefarm.worker.kafka;

import dev.stagefarm.worker.transport.ControlFeed;
import dev.stagefarm.worker.transport.EventSink;
import dev.stagefarm.worker.transport.TaskChannel;
import dev.stagefarm.worker.transport.WorkerTransport;
import java.time.Duration;
import java.util.function.Consumer;

/** The worker's transport on Kafka: share consumers on the task topics, producers of events, a reader of the control topic. */
public final class KafkaWorkerTransport implements WorkerTransport {
  private final TaskSlot.Settings settings;

  public KafkaWorkerTransport(TaskSlot.Settings settings) {
    this.settings = settings;
  }

  @Override
  public TaskChannel taskChannel(String clientId) {
    return new KafkaTaskChannel(settings, clientId);
  }

  @Override
  public EventSink eventSink(String clientId) {
    return new EventPublisher(settings.bootstrapServers(), settings.kafkaSecurity(), clientId, settings.farmKeys());
  }

  @Override
  public ControlFeed controlFeed(String clientId, Duration lookback, Consumer<ControlFeed.Message> onMessage) {
    return new ControlListener(settings.bootstrapServers(), settings.kafkaSecurity(), clientId, lookback, onMessage);
  }
}
