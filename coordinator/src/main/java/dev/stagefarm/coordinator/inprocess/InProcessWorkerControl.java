package dev.stagefarm.coordinator.inprocess;

import dev.stagefarm.coordinator.port.ControlMessages;
import dev.stagefarm.coordinator.port.WorkerControl;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.inprocess.InProcessBus;
import dev.stagefarm.program.inprocess.SignedRecord;
import dev.stagefarm.proto.v1.ControlMessage;
import java.time.Clock;

/** Broadcasts control messages to the workers of the in-process bus, signed as on the control topic. */
public final class InProcessWorkerControl implements WorkerControl {
  private final InProcessBus bus;
  private final FarmKeys keys;
  private final ControlMessages messages;

  public InProcessWorkerControl(InProcessBus bus, FarmKeys keys, Clock clock) {
    this.bus = bus;
    this.keys = keys;
    this.messages = new ControlMessages(clock);
  }

  @Override
  public void buildEnded(String buildId, String reason) {
    send(messages.buildEnded(buildId, reason));
  }

  @Override
  public void attemptIssued(String buildId, String stageId, int attempt) {
    send(messages.attemptIssued(buildId, stageId, attempt));
  }

  private void send(ControlMessage message) {
    bus.publishControl(SignedRecord.sign(keys, FarmKeys.Purpose.CONTROL, message.getBuildId(), message.toByteArray()));
  }

  @Override
  public void close() {}
}
