package dev.stagefarm.oci.image;

import dev.stagefarm.oci.Platform;
import java.util.List;

/** An image index offers no manifest for the platform asked for. */
public final class NoMatchingPlatformException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public NoMatchingPlatformException(Platform wanted, List<Platform> available) {
        super("no image for platform " + wanted + " in the index; it offers: "
                + (available.isEmpty() ? "(none)" : available.stream().map(Platform::toString).toList()));
    }
}
