/**
 * Claiming, renewing and acknowledging stage tasks on the {@code stagefarm-workers} share group, and
 * publishing stage events. Every Kafka consumer call stays on its slot's thread; stages run on
 * virtual threads and hand their outcome back through {@link dev.stagefarm.worker.kafka.RunningStage}.
 */
package dev.stagefarm.worker.kafka;
