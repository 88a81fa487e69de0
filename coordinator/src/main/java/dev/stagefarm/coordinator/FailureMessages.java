package dev.stagefarm.coordinator;

/** One clear message for a failed stage, from the worker's report. */
final class FailureMessages {
  private static final int TAIL_LINES = 15;

  private FailureMessages() {}

  static String describe(String dockerfileName, WorkerEvent.Failed failed) {
    StringBuilder text = new StringBuilder();
    String message = failed.message().strip();
    if (failed.line() > 0 && !message.startsWith(dockerfileName + ":")) {
      text.append(dockerfileName).append(':').append(failed.line()).append(": ");
    }
    text.append(message.isEmpty() ? "stage failed" : message);
    if (failed.exitCode() >= 0 && !message.contains("exit code")) {
      text.append(" (exit code ").append(failed.exitCode()).append(')');
    }
    String tail = failed.outputTail().strip();
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
