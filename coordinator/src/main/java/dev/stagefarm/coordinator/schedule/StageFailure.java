package dev.stagefarm.coordinator.schedule;

/**
 * Why a stage attempt failed.
 *
 * @param message one clear line for the user (Dockerfile line, exit code, cause)
 * @param retriable an infrastructure fault: another attempt may succeed
 */
public record StageFailure(String message, boolean retriable) {}
