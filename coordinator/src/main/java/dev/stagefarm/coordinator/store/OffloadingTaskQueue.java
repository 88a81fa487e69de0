package dev.stagefarm.coordinator.store;

import dev.stagefarm.coordinator.port.ContentStore;
import dev.stagefarm.coordinator.port.ProgramRef;
import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.coordinator.port.TaskQueue;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.program.ProgramCodec;
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
  private final ContentStore store;
  private final int inlineLimit;

  public OffloadingTaskQueue(TaskQueue delegate, ContentStore store, int inlineLimit) {
    this.delegate = delegate;
    this.store = store;
    this.inlineLimit = inlineLimit;
  }

  @Override
  public void publish(StageJob job) {
    if (!(job.program() instanceof ProgramRef.Inline inline)) {
      delegate.publish(job);
      return;
    }
    // the stored bytes are the program's wire form: what the worker reads and verifies by digest
    var encoded = ProgramCodec.toProto(inline.program());
    if (encoded.getSerializedSize() <= inlineLimit) {
      delegate.publish(job);
      return;
    }
    Digest stored;
    try {
      stored = store.putBytes(Namespace.PROGRAMS, encoded.toByteArray());
    } catch (IOException e) {
      // as a failed send: nothing is published (issue 10 gives unpublished stages a lease)
      log.error("storing the program of build {} stage {} attempt {} failed, task not published: {}",
          job.buildId(), job.stageId(), job.attempt(), e.toString());
      return;
    }
    delegate.publish(job.withProgram(new ProgramRef.Stored(stored, inline.platform(), inline.version())));
  }

  /** The delegate prepares them: a task whose program is stored is a new job, which it then encodes when published. */
  @Override
  public void prepare(java.util.List<StageJob> jobs) {
    delegate.prepare(jobs);
  }

  @Override
  public boolean groupsWrites() {
    return delegate.groupsWrites();
  }

  @Override
  public void inOneWrite(Runnable writes) {
    delegate.inOneWrite(writes);
  }

  @Override
  public void close() {
    delegate.close();
  }
}
