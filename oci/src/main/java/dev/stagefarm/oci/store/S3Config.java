package dev.stagefarm.oci.store;

import java.net.URI;
import java.util.Locale;
import java.util.Objects;

/**
 * Where the content store lives: an S3 endpoint (MinIO, AWS, the embedded S3Proxy), credentials, one bucket.
 *
 * @param endpoint base URL, e.g. {@code http://127.0.0.1:9000}
 * @param credentials how requests are signed (static keys, the AWS credentials file, a web identity)
 * @param region the bucket's region, which requests are signed for; S3-compatible servers accept {@code us-east-1}
 */
public record S3Config(String endpoint, S3Credentials credentials, String bucket, String region) {

    public static final String DEFAULT_REGION = "us-east-1";

    public S3Config {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(credentials, "credentials");
        Objects.requireNonNull(bucket, "bucket");
        if (!endpoint.startsWith("http://") && !endpoint.startsWith("https://")) {
            throw new IllegalArgumentException("S3 endpoint must be an http:// or https:// URL, got '" + endpoint + "'");
        }
        if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
            throw new IllegalArgumentException("invalid S3 bucket name '" + bucket
                    + "': 3-63 characters of lowercase letters, digits, '.' and '-'");
        }
        region = region == null || region.isBlank() ? DEFAULT_REGION : region;
    }

    /** Static keys. */
    public S3Config(String endpoint, String accessKey, String secretKey, String bucket, String region) {
        this(endpoint, new S3Credentials.Static(accessKey, secretKey), bucket, region);
    }

    public S3Config(String endpoint, String accessKey, String secretKey, String bucket) {
        this(endpoint, accessKey, secretKey, bucket, DEFAULT_REGION);
    }

    /** The same server and credentials, another bucket. */
    public S3Config withBucket(String otherBucket) {
        return new S3Config(endpoint, credentials, otherBucket, region);
    }

    /** The access key of static credentials (tests and the embedded farm use those). */
    public String accessKey() {
        return staticKeys().accessKey();
    }

    /** The secret key of static credentials. */
    public String secretKey() {
        return staticKeys().secretKey();
    }

    private S3Credentials.Static staticKeys() {
        if (credentials instanceof S3Credentials.Static keys) {
            return keys;
        }
        throw new IllegalStateException("not static S3 credentials: " + credentials.describe());
    }

    /**
     * Whether requests travel as plain HTTP over a real network: neither TLS nor loopback (127.0.0.0/8, ::1,
     * localhost). Only there can an upload's body be altered on the way without the sender's TLS noticing.
     */
    public boolean plainHttpOverNetwork() {
        if (endpoint.startsWith("https://")) {
            return false;
        }
        String host = URI.create(endpoint).getHost();
        if (host == null) {
            return true;
        }
        host = host.toLowerCase(Locale.ROOT);
        boolean loopback = host.equals("localhost") || host.matches("127(\\.\\d{1,3}){3}")
                || host.equals("[::1]") || host.equals("::1");
        return !loopback;
    }

    /** Never prints the secret. */
    @Override
    public String toString() {
        return "S3Config[endpoint=" + endpoint + ", bucket=" + bucket + ", region=" + region + ", credentials="
                + credentials.describe() + "]";
    }
}
