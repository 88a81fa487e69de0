package dev.stagefarm.coordinator;

import dev.stagefarm.proto.v1.StageEvent;

/** One clear message for a failed stage, from the worker's report. */
final class FailureMessages {
  private static final int TAIL_LINES = 15;

  private FailureMessages() {}

  static String describe(String dockerfileName, StageEvent.Failed failed) {
    StringBuilder text = new StringBuilder();
    String message = failed.getMessage().strip();
    if (failed.getLine() > 0 && !message.startsWith(dockerfileName + ":")) {
      text.append(dockerfileName).append(':').append(failed.getLine()).append(": ");
    }
    text.append(message.isEmpty() ? "stage failed" : message);
    if (failed.getExitCode() >= 0 && !message.contains("exit code")) {
      text.append(" (exit code ").append(failed.getExitCode()).append(')');
    }
    String tail = failed.getOutputTail().strip();
    if (!tail.isEmpty()) {
      String[] lines = tail.split("\n");
      int from = Math.max(0, lines.length - TAIL_LINES);
      text.append("\noutput:");
      for (int i = from; i < lines.length; i++) {
        text.append("\n  ").append(lines[i]);
      }
    }
    return text.toString();
  }
}
