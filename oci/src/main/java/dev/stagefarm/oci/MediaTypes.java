package dev.stagefarm.oci;

import java.util.Set;

/** The media types we read (OCI and Docker v2 schema 2) and write (OCI). */
public final class MediaTypes {

    // OCI image spec v1
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    public static final String OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
    public static final String OCI_LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    public static final String OCI_LAYER_TAR_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
    public static final String OCI_LAYER_NONDISTRIBUTABLE_TAR = "application/vnd.oci.image.layer.nondistributable.v1.tar";
    public static final String OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP =
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    public static final String OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD =
            "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
    public static final String OCI_EMPTY = "application/vnd.oci.empty.v1+json";

    // Docker image manifest v2 schema 2
    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
    public static final String DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public static final String DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar";
    public static final String DOCKER_FOREIGN_LAYER_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

    /** Accept header value for manifest requests: every manifest kind we can read. */
    public static final String MANIFEST_ACCEPT = String.join(", ",
            OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST);

    private static final Set<String> MANIFESTS = Set.of(OCI_MANIFEST, DOCKER_MANIFEST);
    private static final Set<String> INDEXES = Set.of(OCI_INDEX, DOCKER_MANIFEST_LIST);
    private static final Set<String> CONFIGS = Set.of(OCI_CONFIG, DOCKER_CONFIG);
    private static final Set<String> GZIP_LAYERS = Set.of(OCI_LAYER_TAR_GZIP, OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP,
            DOCKER_LAYER_GZIP, DOCKER_FOREIGN_LAYER_GZIP);
    private static final Set<String> ZSTD_LAYERS = Set.of(OCI_LAYER_TAR_ZSTD, OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD);
    private static final Set<String> PLAIN_LAYERS = Set.of(OCI_LAYER_TAR, OCI_LAYER_NONDISTRIBUTABLE_TAR,
            DOCKER_LAYER_TAR);
    private static final Set<String> FOREIGN_LAYERS = Set.of(OCI_LAYER_NONDISTRIBUTABLE_TAR,
            OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP, OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD, DOCKER_FOREIGN_LAYER_GZIP);

    private MediaTypes() {
    }

    /** A single-image manifest (OCI or Docker v2 schema 2). */
    public static boolean isManifest(String mediaType) {
        return MANIFESTS.contains(mediaType);
    }

    /** A multi-platform index (OCI index or Docker manifest list). */
    public static boolean isIndex(String mediaType) {
        return INDEXES.contains(mediaType);
    }

    public static boolean isConfig(String mediaType) {
        return CONFIGS.contains(mediaType);
    }

    public static boolean isLayer(String mediaType) {
        return GZIP_LAYERS.contains(mediaType) || ZSTD_LAYERS.contains(mediaType) || PLAIN_LAYERS.contains(mediaType);
    }

    /** Foreign/non-distributable layers are not pushed to registries; they are fetched from their {@code urls}. */
    public static boolean isForeignLayer(String mediaType) {
        return FOREIGN_LAYERS.contains(mediaType);
    }

    /** The compression a layer media type declares. Unknown types throw, naming the type. */
    public static Compression layerCompression(String mediaType) {
        if (GZIP_LAYERS.contains(mediaType)) {
            return Compression.GZIP;
        }
        if (ZSTD_LAYERS.contains(mediaType)) {
            return Compression.ZSTD;
        }
        if (PLAIN_LAYERS.contains(mediaType)) {
            return Compression.NONE;
        }
        throw new IllegalArgumentException("not a layer media type: " + mediaType);
    }

    /** The OCI equivalent of any layer media type we read (Docker types map one to one; OCI types stay). */
    public static String toOciLayer(String mediaType) {
        Compression compression = layerCompression(mediaType);
        if (!isForeignLayer(mediaType)) {
            return ociLayer(compression);
        }
        return switch (compression) {
            case NONE -> OCI_LAYER_NONDISTRIBUTABLE_TAR;
            case GZIP -> OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP;
            case ZSTD -> OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD;
        };
    }

    /** The OCI layer media type we write for a compression. */
    public static String ociLayer(Compression compression) {
        return switch (compression) {
            case NONE -> OCI_LAYER_TAR;
            case GZIP -> OCI_LAYER_TAR_GZIP;
            case ZSTD -> OCI_LAYER_TAR_ZSTD;
        };
    }
}
