/**
 * Translation between the coordinator's domain records and the protobuf messages of the Kafka
 * topics and the content store's records. The edges call it: the Kafka adapters, the S3
 * adapters, and the progress log, whose entries are still the WatchBuild stream's messages. The
 * scheduler and the planner never see a wire message of content.
 */
package dev.stagefarm.coordinator.wire;
