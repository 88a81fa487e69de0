package dev.stagefarm.coordinator.kafka;

import dev.stagefarm.program.KafkaClientProperties;
import dev.stagefarm.coordinator.port.WriteFailure;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.UnsupportedVersionException;

/**
 * The active coordinator's one writer to Kafka: a transactional producer whose id is the same for
 * every coordinator of the farm. {@link #fenceOthers} (once, on becoming active) bumps the id's
 * epoch, so from then on every write of an earlier coordinator fails with a fencing error, even
 * one that still believes it is active (paused, cut off). Tasks and build records both go through
 * it, each write its own transaction, acknowledged by every in-sync replica when {@link #send}
 * returns, or several writes in one transaction ({@link #inTransaction}: the outbox's rounds).
 *
 * <p>A transaction whose commit or abort timed out (broker unreachable) must be finished before
 * the next one begins; the next {@link #send} does that first. So a write reported as failed may
 * still land once the broker is back, and its retry writes it again: tasks and records are
 * idempotent to readers (the same attempt, the latest record).
 */
public final class FencedProducer implements AutoCloseable {
  private enum Pending { NONE, COMMIT, ABORT }

  private final Producer<String, byte[]> producer;
  private final String transactionalId;
  private boolean active;
  private boolean fatal;
  private Pending pending = Pending.NONE;
  /** The sends of the transaction {@link #inTransaction} has open, or null. */
  private List<Future<RecordMetadata>> group;
  private ProducerRecord<String, byte[]> lastOfGroup;
  /** What runs once the open transaction is committed ({@link #afterCommit}). */
  private List<Runnable> commitActions;

  public FencedProducer(String bootstrapServers, String transactionalId) {
    this(bootstrapServers, KafkaClientProperties.none(), transactionalId);
  }

  /** @param security the coordinator's Kafka SASL/TLS settings */
  public FencedProducer(String bootstrapServers, KafkaClientProperties security, String transactionalId) {
    this(KafkaClients.transactionalProducer(bootstrapServers, security, "stagefarm-coordinator", transactionalId),
        transactionalId);
  }

  /** Over {@code producer}, a transactional one (tests: Kafka's MockProducer). */
  FencedProducer(Producer<String, byte[]> producer, String transactionalId) {
    this.transactionalId = transactionalId;
    this.producer = producer;
  }

  /**
   * Takes over the farm's transactional id: aborts what an earlier coordinator left open and
   * fences it. Retries an unreachable broker until {@code timeout}.
   *
   * @throws WriteFailure RETRIABLE when Kafka stayed unreachable, FENCED when fencing is not possible
   */
  public synchronized void fenceOthers(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        producer.initTransactions();
        active = true;
        return;
      } catch (TimeoutException e) {
        if (System.nanoTime() > deadline) {
          throw new WriteFailure(WriteFailure.Kind.RETRIABLE,
              "taking over transactional id " + transactionalId + " timed out: " + e.getMessage(), e);
        }
      } catch (KafkaException e) {
        fatal = true;
        throw new WriteFailure(WriteFailure.Kind.FENCED,
            "taking over transactional id " + transactionalId + " failed: " + e, e);
      }
    }
  }

  /**
   * Writes the record in a transaction of its own and returns once it is committed; inside {@link
   * #inTransaction}, adds it to that transaction and returns at once.
   */
  public synchronized void send(ProducerRecord<String, byte[]> record) {
    requireActive();
    if (group != null) {
      Future<RecordMetadata> sent = producer.send(record);
      lastOfGroup = record;
      if (sent.isDone()) {
        awaitSent(sent, record); // refused before it left (too large): the group fails here
      }
      group.add(sent);
      return;
    }
    try {
      finishPending();
      producer.beginTransaction();
      Future<RecordMetadata> sent = producer.send(record);
      if (sent.isDone()) {
        sent.get(); // a record refused before it left (too large) fails here
      }
      pending = Pending.COMMIT;
      producer.commitTransaction();
      pending = Pending.NONE;
      sent.get();
    } catch (ExecutionException e) {
      throw failure(e.getCause() instanceof KafkaException k ? k : new KafkaException(e.getCause()), record);
    } catch (KafkaException e) {
      throw failure(e, record);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WriteFailure(WriteFailure.Kind.RETRIABLE, "interrupted while writing to " + record.topic(), e);
    }
  }

  /**
   * Runs {@code writes} (calls of {@link #send}) in one transaction and returns once it is
   * committed: every record of it is then durable, or (on a {@link WriteFailure}) none is visible to
   * read_committed readers. Nested calls join the open transaction.
   */
  public synchronized void inTransaction(Runnable writes) {
    requireActive();
    if (group != null) {
      writes.run();
      return;
    }
    try {
      finishPending();
      producer.beginTransaction();
      group = new ArrayList<>();
      commitActions = new ArrayList<>();
      lastOfGroup = null;
      writes.run();
      pending = Pending.COMMIT;
      producer.commitTransaction();
      pending = Pending.NONE;
      for (Future<RecordMetadata> sent : group) {
        sent.get();
      }
      commitActions.forEach(Runnable::run);
    } catch (ExecutionException e) {
      throw failure(e.getCause() instanceof KafkaException k ? k : new KafkaException(e.getCause()), lastOfGroup);
    } catch (KafkaException e) {
      throw failure(e, lastOfGroup);
    } catch (WriteFailure e) {
      if (e.kind() != WriteFailure.Kind.FENCED) {
        abortQuietly(); // a write of the group failed before the commit (e.g. a program the store did not take)
      }
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WriteFailure(WriteFailure.Kind.RETRIABLE, "interrupted while writing a transaction", e);
    } finally {
      group = null;
      commitActions = null;
      lastOfGroup = null;
    }
  }

  /**
   * Runs {@code action} once the transaction {@link #inTransaction} has open is committed (never,
   * when it fails): e.g. a writer remembering what is durable, so that a write it must repeat
   * after an abort is not skipped.
   *
   * @throws IllegalStateException outside {@link #inTransaction}
   */
  public synchronized void afterCommit(Runnable action) {
    if (commitActions == null) {
      throw new IllegalStateException("afterCommit outside a transaction");
    }
    commitActions.add(action);
  }

  private void requireActive() {
    if (fatal || !active) {
      throw new WriteFailure(WriteFailure.Kind.FENCED,
          "this coordinator may not write (" + (fatal ? "fenced by another coordinator" : "not active") + ")", null);
    }
  }

  private void awaitSent(Future<RecordMetadata> sent, ProducerRecord<String, byte[]> record) {
    try {
      sent.get();
    } catch (ExecutionException e) {
      throw failure(e.getCause() instanceof KafkaException k ? k : new KafkaException(e.getCause()), record);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new WriteFailure(WriteFailure.Kind.RETRIABLE, "interrupted while writing to " + record.topic(), e);
    }
  }

  private void finishPending() {
    switch (pending) {
      case COMMIT -> producer.commitTransaction();
      case ABORT -> producer.abortTransaction();
      case NONE -> {}
    }
    pending = Pending.NONE;
  }

  private WriteFailure failure(KafkaException e, ProducerRecord<String, byte[]> record) {
    Throwable cause = e.getCause() instanceof KafkaException inner && !(e instanceof TimeoutException) ? inner : e;
    String what = record == null ? "writing a transaction" : "writing " + record.key() + " to " + record.topic();
    if (isFencing(e) || isFencing(cause)) {
      fatal = true;
      return new WriteFailure(WriteFailure.Kind.FENCED,
          what + " failed and this coordinator stops writing: fenced by a newer coordinator of the farm, or"
              + " not authorised (" + cause.getMessage() + ")", e);
    }
    if (e instanceof TimeoutException) {
      // the commit (or the pending one) may still go through: finish it before the next write
      return new WriteFailure(WriteFailure.Kind.RETRIABLE, what + " failed: Kafka unreachable (" + e.getMessage() + ")", e);
    }
    abortQuietly();
    if (e instanceof OutOfOrderSequenceException || cause instanceof OutOfOrderSequenceException) {
      // for a transactional producer an abortable error, not a fencing one (the client puts it in its
      // abortable state and bumps the epoch; fencing is ProducerFenced or InvalidProducerEpoch): the
      // transaction is aborted and the write goes again (bench/README.md, "Session 11 (issue 12): dispatch")
      return new WriteFailure(WriteFailure.Kind.RETRIABLE, what + " failed: the broker refused a batch's sequence"
          + " number; the transaction was aborted and the write will be retried (" + cause.getMessage() + ")", e);
    }
    if (cause instanceof RecordTooLargeException || cause instanceof RecordBatchTooLargeException) {
      return new WriteFailure(WriteFailure.Kind.REFUSED, what + " was refused: the record of "
          + (record == null || record.value() == null ? 0 : record.value().length)
          + " bytes is over the broker's size limit", e);
    }
    return new WriteFailure(WriteFailure.Kind.RETRIABLE, what + " failed: " + cause, e);
  }

  private static boolean isFencing(Throwable e) {
    return e instanceof ProducerFencedException
        || e instanceof InvalidProducerEpochException
        || e instanceof AuthorizationException
        || e instanceof UnsupportedVersionException;
  }

  private void abortQuietly() {
    try {
      producer.abortTransaction();
      pending = Pending.NONE;
    } catch (TimeoutException e) {
      pending = Pending.ABORT;
    } catch (KafkaException | IllegalStateException e) {
      // no transaction open, or a fatal state the next send reports
      pending = Pending.NONE;
    }
  }

  @Override
  public synchronized void close() {
    producer.close(Duration.ofSeconds(5));
  }
}
