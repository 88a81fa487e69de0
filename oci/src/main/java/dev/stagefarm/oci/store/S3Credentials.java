package dev.stagefarm.oci.store;

import io.minio.credentials.AwsConfigProvider;
import io.minio.credentials.Jwt;
import io.minio.credentials.Provider;
import io.minio.credentials.StaticProvider;
import io.minio.credentials.WebIdentityProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * How a part signs its S3 requests: static keys, the AWS shared credentials file, or a web identity
 * token exchanged at an STS for temporary credentials. Each becomes a MinIO SDK credentials
 * {@link Provider} (the SDK renews expiring ones). {@code toString} never shows a secret.
 */
public sealed interface S3Credentials {

  /** The SDK provider that signs with these credentials. */
  Provider provider();

  /** Where the credentials come from, for logs and {@code --print-config}; never a secret. */
  String describe();

  /** Keys given to this part (or read from its environment at start). */
  record Static(String accessKey, String secretKey, String sessionToken, String origin) implements S3Credentials {
    public Static {
      Objects.requireNonNull(accessKey, "accessKey");
      Objects.requireNonNull(secretKey, "secretKey");
    }

    public Static(String accessKey, String secretKey) {
      this(accessKey, secretKey, null, "static keys");
    }

    @Override
    public Provider provider() {
      return new StaticProvider(accessKey, secretKey, sessionToken);
    }

    @Override
    public String describe() {
      return origin + " (access key " + accessKey + ")";
    }

    @Override
    public String toString() {
      return "S3Credentials.Static[" + describe() + "]";
    }
  }

  /** A profile of the AWS shared credentials file ({@code ~/.aws/credentials}), read by the SDK. */
  record SharedFile(Path file, String profile) implements S3Credentials {
    @Override
    public Provider provider() {
      return new AwsConfigProvider(file.toString(), profile);
    }

    @Override
    public String describe() {
      return "AWS shared credentials file " + file + ", profile " + profile;
    }
  }

  /**
   * {@code AssumeRoleWithWebIdentity}: the OIDC token in {@code tokenFile} (read again at every renewal:
   * Kubernetes rotates projected tokens) for temporary credentials of {@code roleArn} from the STS.
   */
  record WebIdentity(Path tokenFile, String roleArn, String stsEndpoint, String sessionName) implements S3Credentials {
    @Override
    public Provider provider() {
      return new WebIdentityProvider(() -> new Jwt(readToken(tokenFile), 3600), stsEndpoint, 3600, null, roleArn,
          sessionName, null);
    }

    @Override
    public String describe() {
      return "web identity token " + tokenFile + " for role " + roleArn + " at " + stsEndpoint;
    }

    private static String readToken(Path file) {
      try {
        return Files.readString(file, StandardCharsets.UTF_8).strip();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the web identity token " + file, e);
      }
    }
  }

  /**
   * What the configuration asks for ({@code s3-credentials} and the keys it reads); {@link #resolve} makes
   * credentials of it.
   *
   * @param source {@code auto}, {@code static}, {@code env}, {@code file} or {@code web-identity}
   */
  record Request(String source, String accessKey, String secretKey, Path file, String profile, Path tokenFile,
      String roleArn, String stsEndpoint, String region) {

    /**
     * @param env the process environment ({@code AWS_*} variables)
     * @param home the user's home directory (default {@code ~/.aws/credentials})
     * @throws IllegalArgumentException naming the key or variable that is missing
     */
    public S3Credentials resolve(Map<String, String> env, Path home) {
      return switch (source) {
        case "static" -> fromKeys();
        case "env" -> fromEnvironment(env);
        case "file" -> fromFile(env, home, true);
        case "web-identity" -> fromWebIdentity(env, true);
        case "auto" -> auto(env, home);
        default -> throw new IllegalArgumentException("s3-credentials: unknown source '" + source + "'");
      };
    }

    private S3Credentials auto(Map<String, String> env, Path home) {
      if (present(accessKey)) {
        return fromKeys();
      }
      if (present(env.get("AWS_ACCESS_KEY_ID"))) {
        return fromEnvironment(env);
      }
      S3Credentials web = fromWebIdentity(env, false);
      if (web != null) {
        return web;
      }
      S3Credentials file = fromFile(env, home, false);
      if (file != null) {
        return file;
      }
      throw new IllegalArgumentException("no S3 credentials: set s3-access-key and s3-secret-key, or"
          + " AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a web identity (s3-web-identity-token-file and"
          + " s3-role-arn), or an AWS shared credentials file (s3-credentials-file; docs/configuration.md)");
    }

    private S3Credentials fromKeys() {
      if (!present(accessKey) || !present(secretKey)) {
        throw new IllegalArgumentException("s3-credentials static needs s3-access-key and s3-secret-key");
      }
      return new Static(accessKey, secretKey);
    }

    private static S3Credentials fromEnvironment(Map<String, String> env) {
      String id = env.get("AWS_ACCESS_KEY_ID");
      String secret = env.get("AWS_SECRET_ACCESS_KEY");
      if (!present(id) || !present(secret)) {
        throw new IllegalArgumentException("s3-credentials env needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in"
            + " the environment");
      }
      String token = env.get("AWS_SESSION_TOKEN");
      return new Static(id, secret, present(token) ? token : null, "environment AWS_ACCESS_KEY_ID");
    }

    private S3Credentials fromFile(Map<String, String> env, Path home, boolean required) {
      Path path = file != null ? file
          : present(env.get("AWS_SHARED_CREDENTIALS_FILE")) ? Path.of(env.get("AWS_SHARED_CREDENTIALS_FILE"))
          : home.resolve(".aws").resolve("credentials");
      String name = present(profile) ? profile : present(env.get("AWS_PROFILE")) ? env.get("AWS_PROFILE") : "default";
      if (!Files.isReadable(path)) {
        if (required) {
          throw new IllegalArgumentException("s3-credentials-file " + path + " cannot be read");
        }
        return null;
      }
      SharedFile shared = new SharedFile(path, name);
      try {
        shared.provider().fetch(); // a missing profile or key fails at start, naming the file
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("s3-credentials-file " + path + ", profile " + name + ": no usable"
            + " aws_access_key_id and aws_secret_access_key (" + e.getMessage() + ")");
      }
      return shared;
    }

    private S3Credentials fromWebIdentity(Map<String, String> env, boolean required) {
      Path token = tokenFile != null ? tokenFile
          : present(env.get("AWS_WEB_IDENTITY_TOKEN_FILE")) ? Path.of(env.get("AWS_WEB_IDENTITY_TOKEN_FILE")) : null;
      String role = present(roleArn) ? roleArn : env.get("AWS_ROLE_ARN");
      if (token == null || !present(role)) {
        if (required) {
          throw new IllegalArgumentException("s3-credentials web-identity needs s3-web-identity-token-file (or"
              + " AWS_WEB_IDENTITY_TOKEN_FILE) and s3-role-arn (or AWS_ROLE_ARN)");
        }
        return null;
      }
      if (!Files.isReadable(token)) {
        throw new IllegalArgumentException("s3-web-identity-token-file " + token + " cannot be read");
      }
      String sts = present(stsEndpoint) ? stsEndpoint : "https://sts." + region + ".amazonaws.com";
      String session = present(env.get("AWS_ROLE_SESSION_NAME")) ? env.get("AWS_ROLE_SESSION_NAME") : "stagefarm";
      return new WebIdentity(token, role, sts, session);
    }

    private static boolean present(String s) {
      return s != null && !s.isBlank();
    }
  }
}
