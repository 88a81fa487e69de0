package dev.stagefarm.oci.image;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.InvalidDigestException;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.JsonShapes.ConfigJson;
import dev.stagefarm.oci.image.JsonShapes.DescriptorJson;
import dev.stagefarm.oci.image.JsonShapes.HealthcheckJson;
import dev.stagefarm.oci.image.JsonShapes.HistoryJson;
import dev.stagefarm.oci.image.JsonShapes.IndexJson;
import dev.stagefarm.oci.image.JsonShapes.ManifestJson;
import dev.stagefarm.oci.image.JsonShapes.PlatformJson;
import dev.stagefarm.oci.image.JsonShapes.RootFsJson;
import dev.stagefarm.oci.image.JsonShapes.RuntimeConfigJson;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Translates between the domain records and manifest/index/config JSON. Output is canonical: keys sorted, no
 * whitespace, absent fields omitted — the same image gives the same bytes, hence the same digest, on every machine.
 */
public final class ImageJson {

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .disable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private ImageJson() {
    }

    // ---- manifests --------------------------------------------------------------------------------------------

    public static byte[] writeManifest(ImageManifest manifest) {
        return write(new ManifestJson(2, manifest.mediaType(), toJson(manifest.config()),
                manifest.layers().stream().map(ImageJson::toJson).toList(), emptyToNull(manifest.annotations())),
                "manifest");
    }

    /** Reads an OCI or Docker v2 schema 2 manifest. */
    public static ImageManifest readManifest(byte[] json) {
        ManifestJson m = read(json, ManifestJson.class, "image manifest");
        String mediaType = m.mediaType() == null ? MediaTypes.OCI_MANIFEST : m.mediaType();
        if (!MediaTypes.isManifest(mediaType)) {
            throw new ImageFormatException("image manifest has mediaType " + mediaType + ", expected one of "
                    + MediaTypes.OCI_MANIFEST + ", " + MediaTypes.DOCKER_MANIFEST);
        }
        if (m.schemaVersion() == null || m.schemaVersion() != 2) {
            throw new ImageFormatException("image manifest has schemaVersion " + m.schemaVersion() + ", expected 2");
        }
        if (m.config() == null) {
            throw new ImageFormatException("image manifest has no config descriptor");
        }
        List<Descriptor> layers = m.layers() == null ? List.of()
                : m.layers().stream().map(d -> fromJson(d, "manifest layer")).toList();
        return new ImageManifest(mediaType, fromJson(m.config(), "manifest config"), layers, m.annotations());
    }

    // ---- indexes ----------------------------------------------------------------------------------------------

    public static byte[] writeIndex(ImageIndex index) {
        return write(new IndexJson(2, index.mediaType(), index.manifests().stream().map(ImageJson::toJson).toList(),
                emptyToNull(index.annotations())), "index");
    }

    /** Reads an OCI image index or a Docker manifest list. */
    public static ImageIndex readIndex(byte[] json) {
        IndexJson i = read(json, IndexJson.class, "image index");
        String mediaType = i.mediaType() == null ? MediaTypes.OCI_INDEX : i.mediaType();
        if (!MediaTypes.isIndex(mediaType)) {
            throw new ImageFormatException("image index has mediaType " + mediaType + ", expected one of "
                    + MediaTypes.OCI_INDEX + ", " + MediaTypes.DOCKER_MANIFEST_LIST);
        }
        List<Descriptor> manifests = i.manifests() == null ? List.of()
                : i.manifests().stream().map(d -> fromJson(d, "index entry")).toList();
        return new ImageIndex(mediaType, manifests, i.annotations());
    }

    /**
     * The media type a manifest-ish document declares in its {@code mediaType} field, or, when it has none (allowed
     * by OCI), guessed from its shape: {@code manifests} means index, otherwise manifest.
     */
    public static String sniffMediaType(byte[] json) {
        try {
            JsonNode node = MAPPER.readTree(json);
            if (node == null || !node.isObject()) {
                throw new ImageFormatException("manifest document is not a JSON object");
            }
            JsonNode mt = node.get("mediaType");
            if (mt != null && mt.isTextual()) {
                return mt.asText();
            }
            return node.has("manifests") ? MediaTypes.OCI_INDEX : MediaTypes.OCI_MANIFEST;
        } catch (IOException e) {
            throw new ImageFormatException("manifest document is not valid JSON: " + e.getMessage(), e);
        }
    }

    // ---- configs ----------------------------------------------------------------------------------------------

    public static byte[] writeConfig(ImageConfig config) {
        Platform p = config.platform();
        ConfigJson json = new ConfigJson(
                config.created().map(Instant::toString).orElse(null),
                blankToNull(config.author()),
                p.architecture(), p.os(), blankToNull(p.osVersion()), emptyToNull(p.osFeatures()),
                blankToNull(p.variant()),
                toJson(config.config()),
                new RootFsJson("layers", config.diffIds().stream().map(Digest::toString).toList()),
                config.history().isEmpty() ? null : config.history().stream().map(ImageJson::toJson).toList());
        return write(json, "image config");
    }

    public static ImageConfig readConfig(byte[] json) {
        ConfigJson c = read(json, ConfigJson.class, "image config");
        if (c.architecture() == null || c.os() == null) {
            throw new ImageFormatException("image config lacks " + (c.os() == null ? "os" : "architecture"));
        }
        Platform platform = new Platform(c.os(), c.architecture(), c.variant(), c.osVersion(), c.osFeatures());
        List<Digest> diffIds = c.rootfs() == null || c.rootfs().diffIds() == null ? List.of()
                : c.rootfs().diffIds().stream().map(d -> digest(d, "rootfs.diff_ids")).toList();
        List<HistoryEntry> history = c.history() == null ? List.of()
                : c.history().stream().map(ImageJson::fromJson).toList();
        return new ImageConfig(platform, instant(c.created(), "created"), c.author(), fromJson(c.config()), diffIds,
                history);
    }

    // ---- translations -----------------------------------------------------------------------------------------

    static DescriptorJson toJson(Descriptor d) {
        return new DescriptorJson(d.mediaType(), d.digest().toString(), d.size(), emptyToNull(d.urls()),
                emptyToNull(d.annotations()), d.platform().map(ImageJson::toJson).orElse(null));
    }

    static Descriptor fromJson(DescriptorJson d, String what) {
        if (d.mediaType() == null || d.digest() == null || d.size() == null) {
            throw new ImageFormatException(what + " descriptor lacks "
                    + (d.mediaType() == null ? "mediaType" : d.digest() == null ? "digest" : "size"));
        }
        Optional<Platform> platform = Optional.ofNullable(d.platform())
                .map(p -> new Platform(nonNull(p.os(), what + " platform.os"),
                        nonNull(p.architecture(), what + " platform.architecture"), p.variant(), p.osVersion(),
                        p.osFeatures()));
        return new Descriptor(d.mediaType(), digest(d.digest(), what + " digest"), d.size(), d.annotations(),
                platform, d.urls());
    }

    private static PlatformJson toJson(Platform p) {
        return new PlatformJson(p.architecture(), p.os(), blankToNull(p.osVersion()), emptyToNull(p.osFeatures()),
                blankToNull(p.variant()));
    }

    private static RuntimeConfigJson toJson(ContainerConfig c) {
        return new RuntimeConfigJson(
                blankToNull(c.user()), setToGoMap(c.exposedPorts()), emptyToNull(c.env()),
                c.entrypoint().orElse(null), c.cmd().orElse(null), setToGoMap(c.volumes()),
                blankToNull(c.workingDir()), emptyToNull(c.labels()), blankToNull(c.stopSignal()),
                c.argsEscaped() ? Boolean.TRUE : null,
                c.healthcheck().map(ImageJson::toJson).orElse(null),
                emptyToNull(c.onBuild()), emptyToNull(c.shell()));
    }

    private static ContainerConfig fromJson(RuntimeConfigJson c) {
        if (c == null) {
            return ContainerConfig.EMPTY;
        }
        return new ContainerConfig(c.user(), keys(c.exposedPorts()), c.env(), Optional.ofNullable(c.entrypoint()),
                Optional.ofNullable(c.cmd()), keys(c.volumes()), c.workingDir(), c.labels() == null ? null
                : new TreeMap<>(c.labels()), c.stopSignal(), Boolean.TRUE.equals(c.argsEscaped()),
                Optional.ofNullable(c.healthcheck()).map(ImageJson::fromJson), c.onBuild(), c.shell());
    }

    private static HealthcheckJson toJson(Healthcheck h) {
        return new HealthcheckJson(h.test(), nanosOrNull(h.interval()), nanosOrNull(h.timeout()),
                nanosOrNull(h.startPeriod()), nanosOrNull(h.startInterval()), h.retries() == 0 ? null : h.retries());
    }

    private static Healthcheck fromJson(HealthcheckJson h) {
        return new Healthcheck(h.test() == null ? List.of() : h.test(), duration(h.interval()),
                duration(h.timeout()), duration(h.startPeriod()), duration(h.startInterval()),
                h.retries() == null ? 0 : h.retries());
    }

    private static HistoryJson toJson(HistoryEntry h) {
        return new HistoryJson(h.created().map(Instant::toString).orElse(null), blankToNull(h.createdBy()),
                blankToNull(h.author()), blankToNull(h.comment()), h.emptyLayer() ? Boolean.TRUE : null);
    }

    private static HistoryEntry fromJson(HistoryJson h) {
        return new HistoryEntry(instant(h.created(), "history.created"), h.createdBy(), h.author(), h.comment(),
                Boolean.TRUE.equals(h.emptyLayer()));
    }

    // ---- helpers ----------------------------------------------------------------------------------------------

    private static byte[] write(Object shape, String what) {
        try {
            return MAPPER.writeValueAsBytes(shape);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise " + what, e);
        }
    }

    private static <T> T read(byte[] json, Class<T> type, String what) {
        try {
            T value = MAPPER.readValue(json, type);
            if (value == null) {
                throw new ImageFormatException(what + " is JSON null");
            }
            return value;
        } catch (IOException e) {
            String detail = e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
            throw new ImageFormatException(what + " is not valid JSON of the expected shape: " + detail, e);
        }
    }

    private static Digest digest(String text, String field) {
        try {
            return Digest.parse(text);
        } catch (InvalidDigestException e) {
            throw new ImageFormatException(field + ": " + e.getMessage(), e);
        }
    }

    private static Optional<Instant> instant(String text, String field) {
        if (text == null || text.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(OffsetDateTime.parse(text).toInstant());
        } catch (DateTimeParseException e) {
            throw new ImageFormatException(field + " is not an RFC 3339 time: '" + text + "'", e);
        }
    }

    private static String nonNull(String value, String field) {
        if (value == null) {
            throw new ImageFormatException(field + " is missing");
        }
        return value;
    }

    private static Long nanosOrNull(Duration d) {
        return d.isZero() ? null : d.toNanos();
    }

    private static Duration duration(Long nanos) {
        return nanos == null ? Duration.ZERO : Duration.ofNanos(nanos);
    }

    private static Map<String, Map<String, Object>> setToGoMap(Collection<String> keys) {
        if (keys.isEmpty()) {
            return null;
        }
        Map<String, Map<String, Object>> map = new LinkedHashMap<>();
        keys.forEach(k -> map.put(k, Map.of()));
        return map;
    }

    private static java.util.SortedSet<String> keys(Map<String, ?> goMap) {
        return goMap == null ? null : new java.util.TreeSet<>(goMap.keySet());
    }

    private static String blankToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static <T> List<T> emptyToNull(List<T> list) {
        return list == null || list.isEmpty() ? null : list;
    }

    private static <K, V> Map<K, V> emptyToNull(Map<K, V> map) {
        return map == null || map.isEmpty() ? null : map;
    }
}
