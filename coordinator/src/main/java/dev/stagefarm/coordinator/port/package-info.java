/**
 * The coordinator's ports: what its core needs from the outside, named after what it is. The
 * Kafka adapters ({@code kafka}) and the S3 adapters ({@code store}) implement them in
 * production; tests use in-memory implementations, so the core's tests need neither.
 */
package dev.stagefarm.coordinator.port;
