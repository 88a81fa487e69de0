package dev.stagefarm.oci;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * An OS/architecture pair as used in image indexes and image configs.
 * {@code variant} and {@code osVersion} are empty strings when absent.
 */
public record Platform(String os, String architecture, String variant, String osVersion, List<String> osFeatures) {

    public static final Platform LINUX_AMD64 = new Platform("linux", "amd64");
    public static final Platform LINUX_ARM64 = new Platform("linux", "arm64", "v8");

    public Platform {
        Objects.requireNonNull(os, "os");
        Objects.requireNonNull(architecture, "architecture");
        variant = variant == null ? "" : variant;
        osVersion = osVersion == null ? "" : osVersion;
        osFeatures = osFeatures == null ? List.of() : List.copyOf(osFeatures);
    }

    public Platform(String os, String architecture) {
        this(os, architecture, "", "", List.of());
    }

    public Platform(String os, String architecture, String variant) {
        this(os, architecture, variant, "", List.of());
    }

    /** Parses {@code os/arch[/variant]}, e.g. {@code linux/amd64} or {@code linux/arm/v7}. */
    public static Platform parse(String text) {
        String[] parts = text.trim().toLowerCase(Locale.ROOT).split("/", -1);
        if (parts.length < 2 || parts.length > 3 || parts[0].isEmpty() || parts[1].isEmpty()
                || (parts.length == 3 && parts[2].isEmpty())) {
            throw new IllegalArgumentException("invalid platform '" + text + "': expected os/arch[/variant], e.g. linux/amd64");
        }
        return new Platform(parts[0], parts[1], parts.length == 3 ? parts[2] : "");
    }

    /**
     * Whether this (an index entry's platform) satisfies {@code wanted}: same os and architecture, and the same
     * variant when {@code wanted} names one. arm64 without a variant counts as v8, as containerd does.
     */
    public boolean satisfies(Platform wanted) {
        if (!os.equals(wanted.os) || !architecture.equals(wanted.architecture)) {
            return false;
        }
        if (wanted.variant.isEmpty()) {
            return true;
        }
        return normalizedVariant().equals(wanted.normalizedVariant());
    }

    private String normalizedVariant() {
        return variant.isEmpty() && architecture.equals("arm64") ? "v8" : variant;
    }

    @Override
    public String toString() {
        return os + "/" + architecture + (variant.isEmpty() ? "" : "/" + variant);
    }
}
