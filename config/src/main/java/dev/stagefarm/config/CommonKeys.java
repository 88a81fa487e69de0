package dev.stagefarm.config;

import static dev.stagefarm.config.ConfigType.BOOLEAN;
import static dev.stagefarm.config.ConfigType.PATH;
import static dev.stagefarm.config.ConfigType.STRING;

import java.util.List;

/** The keys of the coordinator and the workers alike: Kafka, S3, the farm key, topic creation. */
public final class CommonKeys {
  private CommonKeys() {}

  public static final ConfigKey<String> KAFKA = ConfigKey.of("kafka", STRING,
      "Kafka bootstrap servers, `host:port[,host:port]`")
      .asRequired().validate(Validator.notBlank()).label("HOST:PORT[,…]");

  public static final ConfigKey<java.nio.file.Path> KAFKA_PROPERTIES = ConfigKey.of("kafka-properties", PATH,
      "Java properties file with this part's Kafka client security settings: `security.protocol`, `sasl.*`,"
          + " `ssl.*` (its own principal; docs/security.md, \"Kafka\"). Any other key, or a misspelt `sasl.`/`ssl.`"
          + " key, is an error naming it; secret values (`sasl.jaas.config`, passwords, inline keys) are never logged."
          + " On a farm with Kafka ACLs set `create-topics: false` on the workers (they may not create topics)")
      .computedDefault("none (plain text, no authentication)");

  public static final ConfigKey<String> S3_ENDPOINT = ConfigKey.of("s3-endpoint", STRING,
      "S3 endpoint URL of the content store (MinIO, S3Proxy, AWS: `https://s3.eu-west-1.amazonaws.com`)")
      .asRequired().validate(Validator.url()).label("URL").alias("s3");

  public static final ConfigKey<String> S3_REGION = ConfigKey.of("s3-region", STRING,
      "the bucket's region: requests are signed for it (AWS refuses a signature for another region;"
          + " MinIO and S3Proxy accept `us-east-1`)")
      .defaultValue("us-east-1").validate(Validator.notBlank()).label("REGION");

  public static final ConfigKey<String> S3_CREDENTIALS = ConfigKey.of("s3-credentials",
      ConfigType.oneOf("auto", "static", "env", "file", "web-identity"),
      "where the S3 credentials come from: `static` (`s3-access-key`/`s3-secret-key`), `env` (`AWS_ACCESS_KEY_ID`,"
          + " `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), `file` (the AWS shared credentials file:"
          + " `s3-credentials-file`, `s3-profile`), `web-identity` (an OIDC token file exchanged at an STS for"
          + " temporary credentials, renewed before they expire: `s3-web-identity-token-file`, `s3-role-arn`,"
          + " `s3-sts-endpoint`; e.g. Kubernetes service-account tokens, EKS IRSA). `auto`: `static` when"
          + " `s3-access-key` is set, else the first of `env`, `web-identity` (`AWS_WEB_IDENTITY_TOKEN_FILE` and"
          + " `AWS_ROLE_ARN` set), `file` (the file exists) that has credentials. docs/security.md, \"S3\"")
      .defaultValue("auto").label("auto|static|env|file|web-identity");

  public static final ConfigKey<String> S3_ACCESS_KEY = ConfigKey.of("s3-access-key", STRING,
      "S3 access key (`s3-credentials: static`)").label("KEY");

  public static final ConfigKey<String> S3_SECRET_KEY = ConfigKey.of("s3-secret-key", STRING,
      "S3 secret key (`s3-credentials: static`); keep it in the environment or a file readable by this part"
          + " only, not on a command line (`ps` shows those)")
      .asSecret().label("KEY");

  public static final ConfigKey<java.nio.file.Path> S3_CREDENTIALS_FILE = ConfigKey.of("s3-credentials-file", PATH,
      "the AWS shared credentials file (`s3-credentials: file`), INI with `aws_access_key_id`,"
          + " `aws_secret_access_key` and optionally `aws_session_token` per profile")
      .computedDefault("`$AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`");

  public static final ConfigKey<String> S3_PROFILE = ConfigKey.of("s3-profile", STRING,
      "the profile of `s3-credentials-file`")
      .computedDefault("`$AWS_PROFILE`, else `default`").label("NAME");

  public static final ConfigKey<java.nio.file.Path> S3_WEB_IDENTITY_TOKEN_FILE =
      ConfigKey.of("s3-web-identity-token-file", PATH,
          "the OIDC token file of `s3-credentials: web-identity`, read again at each renewal (Kubernetes rotates it)")
      .computedDefault("`$AWS_WEB_IDENTITY_TOKEN_FILE`");

  public static final ConfigKey<String> S3_ROLE_ARN = ConfigKey.of("s3-role-arn", STRING,
      "the role `s3-credentials: web-identity` assumes (`AssumeRoleWithWebIdentity`)")
      .computedDefault("`$AWS_ROLE_ARN`").label("ARN");

  public static final ConfigKey<String> S3_STS_ENDPOINT = ConfigKey.of("s3-sts-endpoint", STRING,
      "the STS that exchanges the web identity token (MinIO serves its own STS at its S3 endpoint)")
      .computedDefault("`https://sts.<s3-region>.amazonaws.com`").validate(Validator.url()).label("URL");

  public static final ConfigKey<String> BUCKET = ConfigKey.of("bucket", STRING, "the content-store bucket")
      .defaultValue("stagefarm").label("NAME");

  public static final ConfigKey<java.nio.file.Path> FARM_KEY_FILE = ConfigKey.of("farm-key-file", PATH,
      "this part's farm keys: `coordinator.key` or `worker.key` from `stagefarm admin farm-keys` (its own Ed25519"
          + " private key and the other role's public key), or the key(s) shared by the coordinator and the workers"
          + " (one base64 key of at least 32 random bytes per line, `openssl rand -base64 32`). The first key of a"
          + " kind signs, all verify (rotation); `#` lines are comments; format in docs/protocol.md, \"Farm"
          + " authentication\". Tasks without the coordinator's valid signature are rejected, cache records without a"
          + " worker's are misses. A file that cannot sign what this part writes or verify what it reads, and a"
          + " worker's file holding the coordinator's private key, are refused at start (docs/security.md, \"Farm"
          + " parts\")")
      .asRequired();

  public static final ConfigKey<Boolean> CREATE_TOPICS = ConfigKey.of("create-topics", BOOLEAN,
      "create missing topics and set the worker share group's config at start (replication factor 1: for"
          + " single-broker farms; create production topics ahead with `stagefarm admin topics create`)")
      .defaultValue("true");

  public static final ConfigKey<String> METRICS_LISTEN = ConfigKey.of("metrics-listen", STRING,
      "serve `/metrics` (Prometheus), `/livez` and `/readyz` over HTTP at this address, e.g. `0.0.0.0:9464`"
          + " (`:9464` binds every address); unset: off (docs/operations.md, \"Metrics and health\")")
      .label("HOST:PORT");

  public static final ConfigKey<String> LOG_FORMAT = ConfigKey.of("log-format", STRING,
      "how stderr log lines look: `text`, or `json` (one object a line, with build and stage ids)")
      .defaultValue("text").label("text|json");

  public static final ConfigKey<String> OTEL_ENDPOINT = ConfigKey.of("otel-endpoint", STRING,
      "send OpenTelemetry traces (builds, planning, stages, ops) over OTLP/HTTP (`http/protobuf`, the only protocol)"
          + " to this collector, e.g. `http://otel-collector:4318` (spans go to `<URL>/v1/traces`); unset: the"
          + " standard `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT`, else off"
          + " (docs/operations.md, \"Traces\")")
      .validate(Validator.url()).label("URL");

  public static final ConfigKey<String> OTEL_HEADERS = ConfigKey.of("otel-headers", STRING,
      "HTTP headers of every OTLP export, `key=value[,key=value]` (W3C baggage format, values URL-encoded), e.g. a"
          + " collector's API key; unset: `OTEL_EXPORTER_OTLP_TRACES_HEADERS` / `OTEL_EXPORTER_OTLP_HEADERS`")
      .asSecret().label("KEY=VALUE[,…]");

  public static final ConfigKey<Double> OTEL_SAMPLING_RATIO = ConfigKey.of("otel-sampling-ratio",
      ConfigType.DECIMAL,
      "the share of builds traced (by trace id); a worker follows the coordinator's decision the task carries;"
          + " unset: `OTEL_TRACES_SAMPLER_ARG` when `OTEL_TRACES_SAMPLER` is `traceidratio` or"
          + " `parentbased_traceidratio`, else 1")
      .computedDefault("1").validate(Validator.fraction()).label("0..1");

  public static final ConfigKey<String> OTEL_SERVICE_NAME = ConfigKey.of("otel-service-name", STRING,
      "the `service.name` of this part's spans; unset: `OTEL_SERVICE_NAME`, else by role")
      .computedDefault("`stagefarm-coordinator`, `stagefarm-worker`").validate(Validator.notBlank()).label("NAME");

  public static final ConfigKey<java.time.Duration> OTEL_TIMEOUT = ConfigKey.of("otel-timeout", ConfigType.DURATION,
      "how long one OTLP export (connect and send) may take before its spans are dropped; exports run on their own"
          + " thread, never in a build's way, and a failed one is not retried")
      .defaultValue("2s").validate(Validator.positive());

  /** Every common key, in documentation order. */
  public static final List<ConfigKey<?>> ALL = List.of(KAFKA, KAFKA_PROPERTIES, S3_ENDPOINT, S3_REGION, S3_CREDENTIALS,
      S3_ACCESS_KEY, S3_SECRET_KEY, S3_CREDENTIALS_FILE, S3_PROFILE, S3_WEB_IDENTITY_TOKEN_FILE, S3_ROLE_ARN,
      S3_STS_ENDPOINT, BUCKET, FARM_KEY_FILE, CREATE_TOPICS, METRICS_LISTEN, LOG_FORMAT, OTEL_ENDPOINT, OTEL_HEADERS,
      OTEL_SAMPLING_RATIO, OTEL_SERVICE_NAME, OTEL_TIMEOUT);
}
