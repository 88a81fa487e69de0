package dev.stagefarm.worker.transport;

/** What a slot does with the task it holds (Kafka's {@code AcknowledgeType}, which the in-process queue mirrors). */
public enum Ack {
  /** Done with it (completed, failed for good, or not worth running): never handed out again. */
  ACCEPT,
  /** Handed back for another try, spending one delivery. */
  RELEASE,
  /** Unreadable or forged: never handed out again, to anyone. */
  REJECT,
  /** Still running: extend the lock. */
  RENEW
}
