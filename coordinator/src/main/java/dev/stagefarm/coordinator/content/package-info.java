/**
 * The coordinator's content values: layers, stage results, cached ops. Domain records; the
 * protobuf messages of the same names (content.proto, tasks.proto) appear only where the
 * coordinator talks Kafka or gRPC, translated by {@code dev.stagefarm.coordinator.wire}.
 */
package dev.stagefarm.coordinator.content;
