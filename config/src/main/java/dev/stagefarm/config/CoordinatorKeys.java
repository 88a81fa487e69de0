package dev.stagefarm.config;

import static dev.stagefarm.config.ConfigType.BOOLEAN;
import static dev.stagefarm.config.ConfigType.DURATION;
import static dev.stagefarm.config.ConfigType.INT;
import static dev.stagefarm.config.ConfigType.LIST;
import static dev.stagefarm.config.ConfigType.PATH;
import static dev.stagefarm.config.ConfigType.SECONDS;
import static dev.stagefarm.config.ConfigType.STRING;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The coordinator's keys ({@code stagefarm coordinator}): its flags of before, now also keys of a YAML file
 * and {@code STAGEFARM_*} variables. {@link #API} and {@link #REGISTRY} are shared with {@code stagefarm up}.
 */
public final class CoordinatorKeys {
  private CoordinatorKeys() {}

  public static final ConfigKey<Integer> PORT = ConfigKey.of("port", INT, "gRPC port of the BuildService")
      .defaultValue("7070").validate(Validator.port());

  public static final ConfigKey<String> GROUP = ConfigKey.of("group", STRING,
      "the farm's coordinator group: the same on every coordinator of one farm (names the election group"
          + " `NAME-leader`, the event consumer group and the transactional id; docs/protocol.md)")
      .defaultValue("stagefarm-coordinator").validate(Validator.notBlank()).label("NAME");

  public static final ConfigKey<String> ADVERTISE = ConfigKey.of("advertise", STRING,
      "the address clients reach this coordinator at; standbys name the active one's")
      .computedDefault("this host's name and `port`").label("HOST:PORT");

  public static final ConfigKey<Duration> ELECTION_SESSION = ConfigKey.of("election-session", SECONDS,
      "a silent active coordinator is replaced by a standby after this long (at least the broker's"
          + " `group.min.session.timeout.ms`)")
      .defaultValue("6").validate(Validator.positive());

  public static final ConfigKey<Duration> LEASE_TIMEOUT = ConfigKey.of("lease-timeout", SECONDS,
      "re-publish a running stage after this long without an event")
      .defaultValue("30").validate(Validator.positive());

  public static final ConfigKey<Integer> MAX_ATTEMPTS = ConfigKey.of("max-attempts", INT,
      "lost runs per stage (dead workers, infrastructure faults, tasks nobody took) before the build fails"
          + " (poison stage)")
      .defaultValue("3").validate(Validator.atLeast(1));

  public static final ConfigKey<Duration> QUEUE_LEASE = ConfigKey.of("queue-lease", DURATION,
      "publish a task again (next attempt) when no worker started it within this")
      .defaultValue("15m").validate(Validator.positive());

  public static final ConfigKey<Duration> STAGE_DEADLINE = ConfigKey.of("stage-deadline", DURATION,
      "how long one run of a stage may take from a worker's start; the worker kills it after that and the build"
          + " fails naming the deadline")
      .defaultValue("1h").validate(Validator.positive());

  public static final ConfigKey<Duration> BUILD_DEADLINE = ConfigKey.of("build-deadline", DURATION,
      "how long a build may take from its submission; then it fails and its running stages are killed")
      .defaultValue("3h").validate(Validator.positive());

  public static final ConfigKey<Duration> BUILD_RETENTION = ConfigKey.of("build-retention", SECONDS,
      "a finished build keeps its details (stages, progress log, journal record) this long; then it becomes a"
          + " summary and its journal record is tombstoned")
      .defaultValue("3600").validate(Validator.notNegative());

  public static final ConfigKey<Duration> SUMMARY_RETENTION = ConfigKey.of("summary-retention", SECONDS,
      "a summary (id, state, image digest, error, times) is kept this long after that")
      .defaultValue("604800").validate(Validator.notNegative());

  public static final ConfigKey<Integer> MAX_SUMMARIES = ConfigKey.of("max-summaries", INT,
      "at most this many summaries, the oldest go first")
      .defaultValue("10000").validate(Validator.atLeast(0));

  public static final ConfigKey<Duration> GC_INTERVAL = ConfigKey.of("gc-interval", SECONDS,
      "collect garbage in the content store this often (docs/operations.md); `0`: never")
      .defaultValue("0").validate(Validator.notNegative());

  public static final ConfigKey<Duration> GC_KEEP_DURATION = ConfigKey.of("gc-keep-duration", SECONDS,
      "GC deletes cache records written longer ago than this")
      .defaultValue("604800").validate(Validator.positive());

  public static final ConfigKey<Duration> GC_GRACE = ConfigKey.of("gc-grace", SECONDS,
      "GC keeps unreferenced objects younger than this (in-flight uploads, layers before their record, offloaded"
          + " programs)")
      .defaultValue("21600").validate(Validator.notNegative());

  public static final ConfigKey<List<String>> INSECURE_REGISTRY = ConfigKey.of("insecure-registry", LIST,
      "plain HTTP to these registries (`HOST:PORT`; flag repeatable, comma-separated elsewhere)")
      .label("HOST:PORT");

  public static final ConfigKey<List<String>> REGISTRY_MIRROR = ConfigKey.of("registry-mirror", LIST,
      "pull REGISTRY's images (e.g. `docker.io`) from the mirror first (flag repeatable, comma-separated"
          + " elsewhere); a mirror on 127.0.0.1/localhost is plain HTTP")
      .label("REGISTRY=HOST:PORT");

  public static final ConfigKey<Path> TLS_CERT = ConfigKey.of("tls-cert", PATH,
      "serve TLS with this PEM certificate chain (with `tls-key`)");

  public static final ConfigKey<Path> TLS_KEY = ConfigKey.of("tls-key", PATH,
      "the PEM private key (PKCS#8, as `openssl genpkey` writes) of `tls-cert`");

  public static final ConfigKey<Path> TLS_CLIENT_CA = ConfigKey.of("tls-client-ca", PATH,
      "mTLS: client certificates must chain to a CA in this PEM file; the subject CN is the client's identity."
          + " Required in the handshake, unless `tokens-file` is also given (then a call needs a certificate or a"
          + " token)");

  public static final ConfigKey<Path> TOKENS_FILE = ConfigKey.of("tokens-file", PATH,
      "bearer tokens, one `sha256:<hex> IDENTITY client|admin [expires=TIME] [revoked]` line each (the SHA-256 of"
          + " the token, never the token); re-read when it changes (checked at most once a second)");

  public static final ConfigKey<List<String>> ADMIN_CN = ConfigKey.of("admin-cn", LIST,
      "client-certificate CNs with the admin role (needs `tls-client-ca`; flag repeatable, comma-separated"
          + " elsewhere)")
      .label("NAME");

  public static final ConfigKey<Integer> MAX_BUILDS_PER_CLIENT = ConfigKey.of("max-builds-per-client", INT,
      "queued or running builds one identity may have; one more is `RESOURCE_EXHAUSTED` naming the limit")
      .defaultValue("16").validate(Validator.atLeast(1));

  public static final ConfigKey<String> BIND = ConfigKey.of("bind", STRING, "the address of the gRPC port")
      .computedDefault("`127.0.0.1` without authentication, `0.0.0.0` with it").label("ADDRESS");

  public static final ConfigKey<Boolean> ALLOW_UNAUTHENTICATED = ConfigKey.of("allow-unauthenticated", BOOLEAN,
      "listen beyond loopback without authentication (every caller is an anonymous admin); `bind` defaults to"
          + " `0.0.0.0` with it. Refused by `stagefarm up`")
      .defaultValue("false");

  public static final ConfigKey<List<String>> TENANT_WEIGHT = ConfigKey.of("tenant-weight", LIST,
      "a tenant's share of the busy worker slots, `TENANT=WEIGHT` (1-1000; others weigh 1). The tenant is the"
          + " caller's identity with authentication, `--tenant` without (flag repeatable, comma-separated elsewhere)")
      .label("TENANT=WEIGHT");

  public static final ConfigKey<Integer> MAX_PRIORITY = ConfigKey.of("max-priority", INT,
      "the highest `--priority` a tenant may ask for (higher is released first; -100 is the lowest)")
      .defaultValue("0");

  public static final ConfigKey<List<String>> TENANT_MAX_PRIORITY = ConfigKey.of("tenant-max-priority", LIST,
      "`max-priority` for one tenant, `TENANT=N` (flag repeatable, comma-separated elsewhere)")
      .label("TENANT=N");

  public static final ConfigKey<Integer> MAX_QUEUED_STAGES_PER_TENANT = ConfigKey.of("max-queued-stages-per-tenant",
      INT, "a submit of a tenant that has this many stages waiting for a worker slot is `RESOURCE_EXHAUSTED`"
          + " naming the limit")
      .defaultValue("10000").validate(Validator.atLeast(1));

  public static final ConfigKey<Integer> MAX_QUEUED_STAGES = ConfigKey.of("max-queued-stages", INT,
      "a submit while this many stages (all tenants) wait for a worker slot is `RESOURCE_EXHAUSTED` naming the"
          + " limit")
      .defaultValue("100000").validate(Validator.atLeast(1));

  public static final ConfigKey<Integer> DISPATCH_MARGIN = ConfigKey.of("dispatch-margin", INT,
      "stages released to Kafka beyond the live workers' slots (a freed slot finds its next task waiting)")
      .defaultValue("2").validate(Validator.atLeast(0));

  public static final ConfigKey<Integer> UNREPORTED_CAPACITY = ConfigKey.of("unreported-capacity", INT,
      "stages released to Kafka at once while no worker has reported its slots (workers report every heartbeat)")
      .defaultValue("64").validate(Validator.atLeast(1));

  public static final ConfigKey<Integer> METRICS_MAX_TENANTS = ConfigKey.of("metrics-max-tenants", INT,
      "tenants with their own `tenant` tag on the per-tenant metrics; later ones share the tag `other`")
      .defaultValue("20").validate(Validator.atLeast(0));

  /** How ready stages are shared between tenants (docs/operations.md, "Scheduling"). */
  public static final List<ConfigKey<?>> SCHEDULING = List.of(TENANT_WEIGHT, MAX_PRIORITY, TENANT_MAX_PRIORITY,
      MAX_QUEUED_STAGES_PER_TENANT, MAX_QUEUED_STAGES, DISPATCH_MARGIN, UNREPORTED_CAPACITY, METRICS_MAX_TENANTS);
  public static final ConfigKey<Boolean> REGISTRY_CREDENTIALS_FALLBACK = ConfigKey.of("registry-credentials-fallback",
      BOOLEAN, "a build's pulls and pushes use the coordinator's own registry credentials (its docker config) for"
          + " registries the build's client sent none for; false: those are anonymous, and only the client's"
          + " credentials are used (docs/security.md, \"Registry credentials\")")
      .defaultValue("false");

  /** How base images are pulled and results pushed. */
  public static final List<ConfigKey<?>> REGISTRY = List.of(INSECURE_REGISTRY, REGISTRY_MIRROR);

  /** How the gRPC port is protected (docs/security.md, "Clients"). */
  public static final List<ConfigKey<?>> API = List.of(PORT, BIND, TLS_CERT, TLS_KEY, TLS_CLIENT_CA, TOKENS_FILE,
      ADMIN_CN, MAX_BUILDS_PER_CLIENT, ALLOW_UNAUTHENTICATED);

  /** The coordinator's own keys, in documentation order. */
  public static final List<ConfigKey<?>> OWN = List.of(GROUP, ADVERTISE, ELECTION_SESSION, LEASE_TIMEOUT,
      MAX_ATTEMPTS, QUEUE_LEASE, STAGE_DEADLINE, BUILD_DEADLINE, BUILD_RETENTION, SUMMARY_RETENTION, MAX_SUMMARIES,
      GC_INTERVAL, GC_KEEP_DURATION, GC_GRACE,
      // not shared with `up`: a local farm's clients send their own credentials
      REGISTRY_CREDENTIALS_FALLBACK);

  public static final ConfigDef DEF = ConfigDef.of("coordinator", List.of(CommonKeys.ALL, OWN, SCHEDULING, API,
      REGISTRY));
}
