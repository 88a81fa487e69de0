package dev.stagefarm.coordinator.store;

import dev.stagefarm.coordinator.kafka.TaskQueue;
import dev.stagefarm.oci.store.BlobStore;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.oci.store.StoredBlob;
import dev.stagefarm.proto.v1.StageTask;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps task records small: a program larger than the inline limit (a COPY of a context with
 * thousands of files, a long heredoc) goes to the content store under {@code programs/sha256/…}
 * and the task carries its digest instead (Kafka refuses records over 1 MiB by default).
 */
public final class OffloadingTaskQueue implements TaskQueue {
  private static final Logger log = LoggerFactory.getLogger(OffloadingTaskQueue.class);
  /** Programs up to this many serialized bytes travel inside the task record. */
  public static final int INLINE_LIMIT = 256 << 10;

  private final TaskQueue delegate;
  private final BlobStore store;
  private final int inlineLimit;

  public OffloadingTaskQueue(TaskQueue delegate, BlobStore store, int inlineLimit) {
    this.delegate = delegate;
    this.store = store;
    this.inlineLimit = inlineLimit;
  }

  @Override
  public void publish(StageTask task) {
    if (!task.hasProgram() || task.getProgram().getSerializedSize() <= inlineLimit) {
      delegate.publish(task);
      return;
    }
    StoredBlob stored;
    try {
      stored = store.putBytes(Namespace.PROGRAMS, task.getProgram().toByteArray());
    } catch (IOException e) {
      // as a failed send: nothing is published (issue 10 gives unpublished stages a lease)
      log.error("storing the program of build {} stage {} attempt {} failed, task not published: {}",
          task.getBuildId(), task.getStageId(), task.getAttempt(), e.toString());
      return;
    }
    delegate.publish(task.toBuilder().clearProgram().setProgramDigest(stored.digest().toString()).build());
  }

  @Override
  public void close() {
    delegate.close();
  }
}
