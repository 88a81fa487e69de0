package dev.stagefarm.oci.image;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * The JSON documents exactly as the OCI image spec and Docker v2 schema 2 spell them. Only {@link ImageJson} sees
 * these; everyone else uses the domain records. Absent fields are {@code null} and are not written.
 */
final class JsonShapes {

    private JsonShapes() {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record PlatformJson(
            @JsonProperty("architecture") String architecture,
            @JsonProperty("os") String os,
            @JsonProperty("os.version") String osVersion,
            @JsonProperty("os.features") List<String> osFeatures,
            @JsonProperty("variant") String variant) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record DescriptorJson(
            @JsonProperty("mediaType") String mediaType,
            @JsonProperty("digest") String digest,
            @JsonProperty("size") Long size,
            @JsonProperty("urls") List<String> urls,
            @JsonProperty("annotations") Map<String, String> annotations,
            @JsonProperty("platform") PlatformJson platform) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record ManifestJson(
            @JsonProperty("schemaVersion") Integer schemaVersion,
            @JsonProperty("mediaType") String mediaType,
            @JsonProperty("config") DescriptorJson config,
            @JsonProperty("layers") List<DescriptorJson> layers,
            @JsonProperty("annotations") Map<String, String> annotations) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record IndexJson(
            @JsonProperty("schemaVersion") Integer schemaVersion,
            @JsonProperty("mediaType") String mediaType,
            @JsonProperty("manifests") List<DescriptorJson> manifests,
            @JsonProperty("annotations") Map<String, String> annotations) {
    }

    /** Go's time.Duration is an integer count of nanoseconds. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record HealthcheckJson(
            @JsonProperty("Test") List<String> test,
            @JsonProperty("Interval") Long interval,
            @JsonProperty("Timeout") Long timeout,
            @JsonProperty("StartPeriod") Long startPeriod,
            @JsonProperty("StartInterval") Long startInterval,
            @JsonProperty("Retries") Integer retries) {
    }

    /** Ports and volumes are Go {@code map[string]struct{}}: keys with empty-object values. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record RuntimeConfigJson(
            @JsonProperty("User") String user,
            @JsonProperty("ExposedPorts") Map<String, Map<String, Object>> exposedPorts,
            @JsonProperty("Env") List<String> env,
            @JsonProperty("Entrypoint") List<String> entrypoint,
            @JsonProperty("Cmd") List<String> cmd,
            @JsonProperty("Volumes") Map<String, Map<String, Object>> volumes,
            @JsonProperty("WorkingDir") String workingDir,
            @JsonProperty("Labels") Map<String, String> labels,
            @JsonProperty("StopSignal") String stopSignal,
            @JsonProperty("ArgsEscaped") Boolean argsEscaped,
            @JsonProperty("Healthcheck") HealthcheckJson healthcheck,
            @JsonProperty("OnBuild") List<String> onBuild,
            @JsonProperty("Shell") List<String> shell) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record RootFsJson(
            @JsonProperty("type") String type,
            @JsonProperty("diff_ids") List<String> diffIds) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record HistoryJson(
            @JsonProperty("created") String created,
            @JsonProperty("created_by") String createdBy,
            @JsonProperty("author") String author,
            @JsonProperty("comment") String comment,
            @JsonProperty("empty_layer") Boolean emptyLayer) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    record ConfigJson(
            @JsonProperty("created") String created,
            @JsonProperty("author") String author,
            @JsonProperty("architecture") String architecture,
            @JsonProperty("os") String os,
            @JsonProperty("os.version") String osVersion,
            @JsonProperty("os.features") List<String> osFeatures,
            @JsonProperty("variant") String variant,
            @JsonProperty("config") RuntimeConfigJson config,
            @JsonProperty("rootfs") RootFsJson rootfs,
            @JsonProperty("history") List<HistoryJson> history) {
    }
}
