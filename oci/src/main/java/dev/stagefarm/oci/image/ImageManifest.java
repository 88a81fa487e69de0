package dev.stagefarm.oci.image;

import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.MediaTypes;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A single-platform image manifest: one config blob and the ordered layers (base first). Read from OCI or Docker v2
 * schema 2; {@link #toOci()} gives the form we write.
 */
public record ImageManifest(String mediaType, Descriptor config, List<Descriptor> layers,
                            Map<String, String> annotations) {

    public ImageManifest {
        Objects.requireNonNull(mediaType, "mediaType");
        Objects.requireNonNull(config, "config");
        layers = List.copyOf(layers);
        annotations = annotations == null ? Map.of() : java.util.Collections.unmodifiableSortedMap(new TreeMap<>(annotations));
    }

    /** An OCI manifest with no annotations. */
    public static ImageManifest oci(Descriptor config, List<Descriptor> layers) {
        return new ImageManifest(MediaTypes.OCI_MANIFEST, config, layers, Map.of());
    }

    /**
     * The same image in OCI media types. Docker v2 schema 2 types map one to one; the bytes (and so the digests) of
     * config and layers do not change, only the manifest's own digest does.
     */
    public ImageManifest toOci() {
        List<Descriptor> ociLayers = layers.stream()
                .map(l -> l.withMediaType(MediaTypes.toOciLayer(l.mediaType())))
                .toList();
        return new ImageManifest(MediaTypes.OCI_MANIFEST, config.withMediaType(MediaTypes.OCI_CONFIG), ociLayers,
                annotations);
    }

    public ImageManifest withLayers(List<Descriptor> newLayers) {
        return new ImageManifest(mediaType, config, newLayers, annotations);
    }

    public ImageManifest withConfig(Descriptor newConfig) {
        return new ImageManifest(mediaType, newConfig, layers, annotations);
    }

    public ImageManifest withAnnotations(Map<String, String> newAnnotations) {
        return new ImageManifest(mediaType, config, layers, newAnnotations);
    }
}
