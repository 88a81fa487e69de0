package dev.stagefarm.oci.layer;

import java.io.IOException;

/** A layer tar that tries something a layer must not (escape the root, lie about sizes, …); names the entry. */
public final class HostileLayerException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String entry;

    public HostileLayerException(String entry, String reason) {
        super("layer entry '" + entry + "': " + reason);
        this.entry = entry;
    }

    public HostileLayerException(String entry, String reason, Throwable cause) {
        super("layer entry '" + entry + "': " + reason, cause);
        this.entry = entry;
    }

    /** The entry name as it stands in the tar. */
    public String entry() {
        return entry;
    }
}
