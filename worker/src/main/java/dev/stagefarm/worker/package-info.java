/**
 * The stagefarm worker: a stateless process that takes stage tasks from Kafka and executes them.
 *
 * <p>Pipeline (bazel-buildfarm style): take task ({@link dev.stagefarm.worker.kafka}: a share-group
 * consumer per slot, lock renewal, heartbeats) → materialise the base ({@link
 * dev.stagefarm.worker.layers}: extracted layers by diff_id) → execute instruction by instruction
 * ({@link dev.stagefarm.worker.exec}: RUN through {@link dev.stagefarm.worker.runtime runc}, COPY/ADD,
 * metadata) → snapshot each overlay upper dir into a layer and upload it → report the outcome.
 *
 * <p>Entry point: {@link dev.stagefarm.worker.Worker}; configuration: {@link
 * dev.stagefarm.worker.config.WorkerConfig}. The protocol is in docs/protocol.md.
 */
package dev.stagefarm.worker;
