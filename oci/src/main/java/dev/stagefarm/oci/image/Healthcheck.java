package dev.stagefarm.oci.image;

import java.time.Duration;
import java.util.List;

/**
 * Docker's HEALTHCHECK. {@code test} is {@code ["NONE"]}, {@code ["CMD", args…]} or {@code ["CMD-SHELL", cmd]};
 * zero durations and retries mean "inherit the default".
 */
public record Healthcheck(List<String> test, Duration interval, Duration timeout, Duration startPeriod,
                          Duration startInterval, int retries) {

    public Healthcheck {
        test = List.copyOf(test);
        interval = interval == null ? Duration.ZERO : interval;
        timeout = timeout == null ? Duration.ZERO : timeout;
        startPeriod = startPeriod == null ? Duration.ZERO : startPeriod;
        startInterval = startInterval == null ? Duration.ZERO : startInterval;
    }

    /** {@code HEALTHCHECK NONE}: disables a check inherited from the base image. */
    public static Healthcheck none() {
        return new Healthcheck(List.of("NONE"), null, null, null, null, 0);
    }
}
