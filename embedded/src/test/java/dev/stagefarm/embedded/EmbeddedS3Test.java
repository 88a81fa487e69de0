package dev.stagefarm.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.minio.BucketExistsArgs;
import io.minio.GetObjectArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import io.minio.StatObjectArgs;
import io.minio.errors.ErrorResponseException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedS3Test {

    @Test
    void filesystemBackendStoresObjectsOnDiskAndServesThemOverHttp(@TempDir Path dir) throws Exception {
        try (EmbeddedS3 s3 = EmbeddedS3.start(dir, 0)) {
            assertThat(s3.endpoint()).startsWith("http://127.0.0.1:").doesNotEndWith(":0");
            MinioClient client = client(s3);
            client.makeBucket(MakeBucketArgs.builder().bucket("things").build());
            byte[] body = "hello from the embedded store".getBytes(StandardCharsets.UTF_8);
            client.putObject(PutObjectArgs.builder().bucket("things").object("a/b.txt").data(body, body.length).build());

            try (InputStream in = client.getObject(GetObjectArgs.builder().bucket("things").object("a/b.txt").build())) {
                assertThat(in.readAllBytes()).isEqualTo(body);
            }
            assertThat(Files.readAllBytes(dir.resolve("things/a/b.txt"))).isEqualTo(body);
        }
    }

    @Test
    void transientBackendAnswersMissingObjectsWithNoSuchKey() throws Exception {
        try (EmbeddedS3 s3 = EmbeddedS3.start(null, 0)) {
            MinioClient client = client(s3);
            client.makeBucket(MakeBucketArgs.builder().bucket("empty").build());
            assertThat(client.bucketExists(BucketExistsArgs.builder().bucket("empty").build())).isTrue();
            assertThatThrownBy(() -> client.statObject(StatObjectArgs.builder().bucket("empty").object("nope").build()))
                    .isInstanceOfSatisfying(ErrorResponseException.class,
                            e -> assertThat(e.errorResponse().code()).isEqualTo("NoSuchKey"));
        }
    }

    @Test
    void wrongSecretIsRejected() throws Exception {
        try (EmbeddedS3 s3 = EmbeddedS3.start(null, 0)) {
            MinioClient intruder = MinioClient.builder().endpoint(s3.endpoint())
                    .credentials(s3.accessKey(), "not-the-secret").region("us-east-1").build();
            assertThatThrownBy(() -> intruder.makeBucket(MakeBucketArgs.builder().bucket("intruders").build()))
                    .isInstanceOfSatisfying(ErrorResponseException.class,
                            e -> assertThat(e.errorResponse().code()).isEqualTo("SignatureDoesNotMatch"));
        }
    }

    private static MinioClient client(EmbeddedS3 s3) {
        return MinioClient.builder().endpoint(s3.endpoint()).credentials(s3.accessKey(), s3.secretKey())
                .region("us-east-1").build();
    }
}
