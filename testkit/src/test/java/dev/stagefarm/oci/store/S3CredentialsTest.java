package dev.stagefarm.oci.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.embedded.EmbeddedS3;
import dev.stagefarm.testkit.S3Fixture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each credential source signs real requests to the test S3 server (which checks AWS signatures). */
class S3CredentialsTest {
  @TempDir Path home;

  private final EmbeddedS3 s3 = S3Fixture.server();
  private final String bucket = S3Fixture.newBucket("credentials").bucket();

  private static S3Credentials.Request request(String source, String accessKey, String secretKey, Path file,
      String profile) {
    return new S3Credentials.Request(source, accessKey, secretKey, file, profile, null, null, null, "eu-west-1");
  }

  /** Writes and reads back one record with these credentials. */
  private String roundTrip(S3Credentials credentials) throws IOException {
    try (BlobStore store = BlobStore.connect(new S3Config(s3.endpoint(), credentials, bucket, "eu-west-1"))) {
      String key = "cred-test-" + credentials.getClass().getSimpleName();
      store.putRecord(key, "ok".getBytes(StandardCharsets.UTF_8));
      return store.getRecord(key).map(b -> new String(b, StandardCharsets.UTF_8)).orElse("missing");
    }
  }

  @Test
  void staticKeysSignRequestsAndAWrongSecretIsRefusedByTheServer() throws Exception {
    S3Credentials keys = request("static", s3.accessKey(), s3.secretKey(), null, null).resolve(Map.of(), home);
    assertThat(roundTrip(keys)).isEqualTo("ok");
    S3Credentials wrong = request("static", s3.accessKey(), "not-the-secret", null, null).resolve(Map.of(), home);
    assertThatThrownBy(() -> roundTrip(wrong)).isInstanceOf(IOException.class);
    assertThat(wrong.toString()).doesNotContain("not-the-secret");
  }

  @Test
  void theAwsEnvironmentVariablesSignRequests() throws Exception {
    Map<String, String> env = Map.of("AWS_ACCESS_KEY_ID", s3.accessKey(), "AWS_SECRET_ACCESS_KEY", s3.secretKey());
    S3Credentials fromEnv = request("env", null, null, null, null).resolve(env, home);
    assertThat(fromEnv.describe()).isEqualTo("environment AWS_ACCESS_KEY_ID (access key " + s3.accessKey() + ")");
    assertThat(roundTrip(fromEnv)).isEqualTo("ok");
    assertThatThrownBy(() -> request("env", null, null, null, null).resolve(Map.of(), home))
        .hasMessageContaining("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }

  @Test
  void aProfileOfTheSharedCredentialsFileSignsRequests() throws Exception {
    Path file = Files.writeString(home.resolve("credentials"), """
        [default]
        aws_access_key_id = someone-else
        aws_secret_access_key = wrong

        [farm]
        aws_access_key_id = %s
        aws_secret_access_key = %s
        """.formatted(s3.accessKey(), s3.secretKey()));
    S3Credentials farm = request("file", null, null, file, "farm").resolve(Map.of(), home);
    assertThat(farm).isEqualTo(new S3Credentials.SharedFile(file, "farm"));
    assertThat(roundTrip(farm)).isEqualTo("ok");
    // AWS_PROFILE picks the profile when s3-profile is not set
    assertThat(request("file", null, null, file, null).resolve(Map.of("AWS_PROFILE", "farm"), home)).isEqualTo(farm);
    assertThatThrownBy(() -> request("file", null, null, file, "nobody").resolve(Map.of(), home))
        .hasMessageContaining("s3-credentials-file " + file + ", profile nobody: no usable");
    assertThatThrownBy(() -> request("file", null, null, home.resolve("none"), null).resolve(Map.of(), home))
        .hasMessage("s3-credentials-file " + home.resolve("none") + " cannot be read");
  }

  @Test
  void autoTakesStaticKeysThenTheEnvironmentThenAWebIdentityThenTheDefaultFile() throws Exception {
    Map<String, String> env = Map.of("AWS_ACCESS_KEY_ID", "env-key", "AWS_SECRET_ACCESS_KEY", "env-secret");
    assertThat(request("auto", "k", "s", null, null).resolve(env, home)).isEqualTo(new S3Credentials.Static("k", "s"));
    assertThat(request("auto", null, null, null, null).resolve(env, home).describe())
        .startsWith("environment AWS_ACCESS_KEY_ID");
    Path token = Files.writeString(home.resolve("token"), "eyJ.token.sig\n");
    S3Credentials web = request("auto", null, null, null, null)
        .resolve(Map.of("AWS_WEB_IDENTITY_TOKEN_FILE", token.toString(), "AWS_ROLE_ARN", "arn:aws:iam::1:role/farm"),
            home);
    assertThat(web).isEqualTo(new S3Credentials.WebIdentity(token, "arn:aws:iam::1:role/farm",
        "https://sts.eu-west-1.amazonaws.com", "stagefarm"));
    Files.createDirectories(home.resolve(".aws"));
    Files.writeString(home.resolve(".aws/credentials"),
        "[default]\naws_access_key_id = " + s3.accessKey() + "\naws_secret_access_key = " + s3.secretKey() + "\n");
    S3Credentials file = request("auto", null, null, null, null).resolve(Map.of(), home);
    assertThat(file).isEqualTo(new S3Credentials.SharedFile(home.resolve(".aws/credentials"), "default"));
    assertThat(roundTrip(file)).isEqualTo("ok");
  }

  @Test
  void withNoSourceAutoNamesEveryWayToGiveCredentials() {
    assertThatThrownBy(() -> request("auto", null, null, null, null).resolve(Map.of(), home))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("no S3 credentials: set s3-access-key and s3-secret-key, or AWS_ACCESS_KEY_ID");
    assertThatThrownBy(() -> request("web-identity", null, null, null, null).resolve(Map.of(), home))
        .hasMessageContaining("s3-web-identity-token-file");
  }
}
