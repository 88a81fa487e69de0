/**
 * Translation between the coordinator's domain records and the protobuf messages of the Kafka
 * topics and the content store's records. Only the edges (Kafka adapters, S3 adapters, the gRPC
 * service) call it; the scheduler and planner never see a wire message of content.
 */
package dev.stagefarm.coordinator.wire;
