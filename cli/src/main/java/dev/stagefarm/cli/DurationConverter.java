package dev.stagefarm.cli;

import dev.stagefarm.config.ConfigType;
import java.time.Duration;
import picocli.CommandLine;

/** Durations on the command line as in the config files: "500ms", "90s", "15m", "1h" or ISO-8601. */
public final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    try {
      Duration d = ConfigType.DURATION.parse().apply(value);
      if (!d.isPositive()) {
        throw new CommandLine.TypeConversionException("'" + value + "' is not a positive duration");
      }
      return d;
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException("'" + value + "' is not a duration (e.g. 90s, 15m, 1h)");
    }
  }
}
