/**
 * The worker's transport port: where its slots claim tasks ({@link TaskChannel}), where it sends
 * events ({@link EventSink}), where it hears the coordinator ({@link ControlFeed}). Two
 * implementations carry the same signed records: Kafka ({@code worker.kafka}, a farm of processes
 * and hosts) and in-process ({@link InProcessWorkerTransport}, a one-shot farm in one JVM, no broker).
 */
package dev.stagefarm.worker.transport;
