package dev.stagefarm.oci.image;

import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.Platform;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/** A multi-platform image index (OCI index or Docker manifest list). */
public record ImageIndex(String mediaType, List<Descriptor> manifests, Map<String, String> annotations) {

    /** BuildKit marks its attestation manifests with this annotation; they are not runnable images. */
    static final String DOCKER_REFERENCE_TYPE = "vnd.docker.reference.type";

    public ImageIndex {
        Objects.requireNonNull(mediaType, "mediaType");
        manifests = List.copyOf(manifests);
        annotations = annotations == null ? Map.of() : java.util.Collections.unmodifiableSortedMap(new TreeMap<>(annotations));
    }

    public static ImageIndex oci(List<Descriptor> manifests) {
        return new ImageIndex(MediaTypes.OCI_INDEX, manifests, Map.of());
    }

    /** The first image manifest whose platform satisfies {@code wanted}, skipping attestations and nested indexes. */
    public Optional<Descriptor> select(Platform wanted) {
        return manifests.stream()
                .filter(d -> MediaTypes.isManifest(d.mediaType()))
                .filter(d -> !d.annotations().containsKey(DOCKER_REFERENCE_TYPE))
                .filter(d -> d.platform().map(p -> p.satisfies(wanted)).orElse(false))
                .findFirst();
    }

    /** Like {@link #select} but fails with the list of platforms the index offers. */
    public Descriptor selectOrThrow(Platform wanted) {
        return select(wanted).orElseThrow(() -> new NoMatchingPlatformException(wanted, platforms()));
    }

    /** The platforms of the runnable manifests in this index, in index order. */
    public List<Platform> platforms() {
        return manifests.stream()
                .filter(d -> MediaTypes.isManifest(d.mediaType()))
                .filter(d -> !d.annotations().containsKey(DOCKER_REFERENCE_TYPE))
                .flatMap(d -> d.platform().stream())
                .toList();
    }
}
