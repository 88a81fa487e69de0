package dev.stagefarm.coordinator;

import dev.stagefarm.coordinator.grpc.auth.ApiSecurity;
import dev.stagefarm.coordinator.schedule.Scheduler;
import dev.stagefarm.coordinator.store.StoreImageExporter;
import dev.stagefarm.oci.registry.RegistryClient;
import dev.stagefarm.oci.registry.RegistrySettings;
import dev.stagefarm.oci.store.FileBlobStore;
import dev.stagefarm.program.FarmKeys;
import dev.stagefarm.program.inprocess.InProcessBus;
import dev.stagefarm.program.inprocess.InProcessShareQueue;
import dev.stagefarm.program.inprocess.SignedRecord;
import dev.stagefarm.proto.Topics;
import dev.stagefarm.proto.v1.StageEvent;
import dev.stagefarm.proto.v1.StageTask;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The local farm's transport in {@link DispatchBench}: the coordinator as {@code stagefarm build}'s
 * background farm runs it ({@link CoordinatorNode#startInProcess}: the in-process bus, no broker,
 * no election, a journal in memory, a directory as its store, one shared farm key), and synthetic
 * workers that are members of the bus's share queue as the local farm's slots are (one task held
 * at a time each): verify the task's MAC, publish completed (DISPATCH_EVENTS=two: started first) signed with the farm key
 * (the outcome waits for room on the bus, as a slot's durable publish does), then ACCEPT. There is
 * no broker clock here: a task's time in the log is when a synthetic worker claimed it.
 */
final class DispatchBusFarm implements DispatchFarm {
  /** As many as the Kafka farm's share consumers. */
  private static final int MEMBERS = 4;
  /** The local farm's task record lock and delivery limit (EmbeddedFarm, FarmTopics' single-broker layout). */
  private static final Duration LOCK = Duration.ofSeconds(30);
  private static final int DELIVERY_LIMIT = 10;

  private final CoordinatorNode node;
  private final InProcessBus bus;
  private final FarmKeys keys;
  private final DispatchTaskLog tasks = new DispatchTaskLog();
  private final AtomicLong taken = new AtomicLong();
  private final AtomicLong completed = new AtomicLong();

  private DispatchBusFarm(CoordinatorNode node, InProcessBus bus, FarmKeys keys) {
    this.node = node;
    this.bus = bus;
    this.keys = keys;
  }

  static DispatchBusFarm start(int slots) throws Exception {
    InProcessBus bus = new InProcessBus(LOCK, DELIVERY_LIMIT);
    FarmKeys keys = FarmKeys.generate(); // the local farm's kind of key: one shared key (FarmKeys.loadOrCreate)
    FileBlobStore store = FileBlobStore.open(Files.createTempDirectory("dispatch-bench-store-").resolve("store"));
    String run = UUID.randomUUID().toString().substring(0, 8);
    CoordinatorNode node = CoordinatorNode.startInProcess(
        new CoordinatorNode.Options("", "stagefarm-coordinator",
            new BuildCoordinator.Settings(new Scheduler.Settings(Duration.ofSeconds(60), 3), Duration.ofSeconds(1)),
            keys),
        bus, store, new RegistryClient(RegistrySettings.defaults()), new StoreImageExporter(store),
        InProcessServerBuilder.forName("dispatch-bench-" + run), ApiSecurity.open());
    DispatchBusFarm farm = new DispatchBusFarm(node, bus, keys);
    Thread.ofPlatform().daemon().name("synthetic-presence").start(() -> DispatchBench.announce(slots,
        present -> bus.offerEvent(SignedRecord.sign(keys, FarmKeys.Purpose.EVENT, "", present.toByteArray()))));
    for (int i = 0; i < MEMBERS; i++) {
      int n = i;
      Thread.ofPlatform().daemon().name("synthetic-worker-" + i).start(() -> farm.consume(n));
    }
    return farm;
  }

  private void consume(int n) {
    String member = "synthetic-worker-" + n;
    InProcessShareQueue queue = bus.tasks();
    try {
      while (true) {
        Optional<InProcessShareQueue.Delivery> claimed =
            queue.claim(member, List.of(Topics.TASKS), Duration.ofSeconds(1), () -> false);
        if (claimed.isEmpty()) {
          continue;
        }
        InProcessShareQueue.Delivery d = claimed.get();
        long claimedMs = System.currentTimeMillis();
        if (!d.record().verify(keys, FarmKeys.Purpose.TASK)) {
          queue.acknowledge(member, d.topic(), d.offset(), InProcessShareQueue.Ack.REJECT);
          continue;
        }
        StageTask task;
        try {
          task = StageTask.parseFrom(d.record().value());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          queue.acknowledge(member, d.topic(), d.offset(), InProcessShareQueue.Ack.REJECT);
          continue;
        }
        tasks.add(claimedMs, d.record().key(), task.getAttempt());
        taken.incrementAndGet();
        List<StageEvent> run = DispatchBench.noOpRun(task, "synthetic-" + (n % DispatchBench.WORKER_IDS),
            d.deliveryCount());
        // started as a slot sends progress (no wait), the outcome as it sends an outcome (waits for room)
        for (StageEvent progress : run.subList(0, run.size() - 1)) {
          bus.offerEvent(signed(task, progress));
        }
        if (!bus.putEvent(signed(task, run.getLast()), Duration.ofSeconds(30))) {
          throw new IllegalStateException("the bus took no event for 30 s");
        }
        completed.incrementAndGet();
        queue.acknowledge(member, d.topic(), d.offset(), InProcessShareQueue.Ack.ACCEPT);
      }
    } catch (InterruptedException e) {
      // stopping
    }
  }

  private SignedRecord signed(StageTask task, StageEvent event) {
    return SignedRecord.sign(keys, FarmKeys.Purpose.EVENT, task.getBuildId(), event.toByteArray());
  }

  @Override
  public String describe() {
    return "local farm's transport (in-process bus, no broker, directory store, one shared farm key)";
  }

  @Override
  public CoordinatorNode node() {
    return node;
  }

  @Override
  public DispatchTaskLog tasks() {
    return tasks;
  }

  @Override
  public String taskClock() {
    return "tasks claimed from the in-process bus (claim time: no broker)";
  }

  @Override
  public long taken() {
    return taken.get();
  }

  @Override
  public long completed() {
    return completed.get();
  }
}
