package dev.stagefarm.oci.layer;

/** The OCI whiteout naming convention (inherited from AUFS). */
public final class Whiteouts {

    /** A file {@code .wh.NAME} deletes {@code NAME} from the layers below. */
    public static final String PREFIX = ".wh.";
    /** A file {@code .wh..wh..opq} in a directory hides everything the layers below had in it. */
    public static final String OPAQUE = ".wh..wh..opq";
    /** Prefix of AUFS' internal meta files, which have no meaning in a layer. */
    static final String META_PREFIX = ".wh..wh.";

    private Whiteouts() {
    }
}
