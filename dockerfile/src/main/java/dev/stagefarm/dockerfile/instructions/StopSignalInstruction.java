package dev.stagefarm.dockerfile.instructions;

import dev.stagefarm.dockerfile.DockerfileException;
import java.util.Locale;
import java.util.Set;

/** {@code STOPSIGNAL signal}, e.g. {@code SIGTERM}, {@code TERM} or {@code 9}. */
public record StopSignalInstruction(Origin origin, String signal) implements Instruction {

  // moby/sys/signal's Linux SignalMap (names without the SIG prefix).
  private static final Set<String> LINUX_SIGNALS =
      Set.of(
          "ABRT", "ALRM", "BUS", "CHLD", "CLD", "CONT", "FPE", "HUP", "ILL", "INT", "IO", "IOT",
          "KILL", "PIPE", "POLL", "PROF", "PWR", "QUIT", "SEGV", "STKFLT", "STOP", "SYS", "TERM",
          "TRAP", "TSTP", "TTIN", "TTOU", "URG", "USR1", "USR2", "VTALRM", "WINCH", "XCPU",
          "XFSZ", "RTMIN", "RTMIN+1", "RTMIN+2", "RTMIN+3", "RTMIN+4", "RTMIN+5", "RTMIN+6",
          "RTMIN+7", "RTMIN+8", "RTMIN+9", "RTMIN+10", "RTMIN+11", "RTMIN+12", "RTMIN+13",
          "RTMIN+14", "RTMIN+15", "RTMAX-14", "RTMAX-13", "RTMAX-12", "RTMAX-11", "RTMAX-10",
          "RTMAX-9", "RTMAX-8", "RTMAX-7", "RTMAX-6", "RTMAX-5", "RTMAX-4", "RTMAX-3",
          "RTMAX-2", "RTMAX-1", "RTMAX");

  /**
   * Expands the signal and checks it like BuildKit's dispatcher ({@code signal.ParseSignal}).
   *
   * @throws DockerfileException {@code invalid signal: X}
   */
  @Override
  public StopSignalInstruction expand(WordExpander expander) {
    StopSignalInstruction expanded =
        new StopSignalInstruction(origin, expander.at(origin).word(signal));
    if (!isValid(expanded.signal)) {
      throw new DockerfileException(origin.line(), "invalid signal: " + expanded.signal);
    }
    return expanded;
  }

  private static boolean isValid(String signal) {
    if (signal.matches("[+-]?\\d+")) {
      try {
        return Integer.parseInt(signal) != 0;
      } catch (NumberFormatException e) {
        return false;
      }
    }
    String name = signal.toUpperCase(Locale.ROOT);
    return LINUX_SIGNALS.contains(name.startsWith("SIG") ? name.substring(3) : name);
  }
}
