/**
 * The coordinator's ports on an {@link dev.stagefarm.program.inprocess.InProcessBus}: the one-shot
 * farm, whose coordinator and workers share one JVM and no Kafka broker. One coordinator by
 * construction (no election, no fencing) that resumes nothing (its journal lives in memory).
 */
package dev.stagefarm.coordinator.inprocess;
