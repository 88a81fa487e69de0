package dev.stagefarm.config;

import static dev.stagefarm.config.ConfigType.BOOLEAN;
import static dev.stagefarm.config.ConfigType.DECIMAL;
import static dev.stagefarm.config.ConfigType.DURATION;
import static dev.stagefarm.config.ConfigType.INT;
import static dev.stagefarm.config.ConfigType.PATH;
import static dev.stagefarm.config.ConfigType.SIZE;
import static dev.stagefarm.config.ConfigType.STRING;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** The keys only workers read ({@code stagefarm worker}); with {@link CommonKeys} they make {@link #DEF}. */
public final class WorkerKeys {
  private WorkerKeys() {}

  public static final ConfigKey<Path> WORK_DIR = ConfigKey.of("work-dir", PATH,
      "layer cache (`layers/`), stage scratch (`stages/`), cache mounts (`cache-mounts/`), runc state (`runc/`); "
          + "one worker each: `worker.lock`, held while it runs, refuses a second (docs/operations.md, \"Worker disk\")")
      .defaultValue("/var/lib/stagefarm/worker").label("DIR");

  public static final ConfigKey<Integer> CONCURRENCY = ConfigKey.of("concurrency", INT,
      "stages executed at once (one share consumer per slot)")
      .defaultValue("1").validate(Validator.atLeast(1));

  public static final ConfigKey<String> WORKER_ID = ConfigKey.of("worker-id", STRING,
      "names the worker in events and logs")
      .computedDefault("`<hostname>-<pid>`").label("ID");

  public static final ConfigKey<String> SHARE_GROUP = ConfigKey.of("share-group", STRING,
      "Kafka share group of the workers")
      .defaultValue("stagefarm-workers").validate(Validator.notBlank()).label("NAME");

  public static final ConfigKey<Duration> HEARTBEAT_INTERVAL = ConfigKey.of("heartbeat-interval", DURATION,
      "heartbeat period of a running stage on `stagefarm.events`")
      .defaultValue("5s").validate(Validator.positive());

  public static final ConfigKey<Duration> POLL_TIMEOUT = ConfigKey.of("poll-timeout", DURATION,
      "task consumer poll timeout: bounds lock renewal and acknowledgement latency; keep well under the record"
          + " lock (30 s)")
      .defaultValue("1s").validate(Validator.positive());

  public static final ConfigKey<Duration> SHUTDOWN_GRACE = ConfigKey.of("shutdown-grace", DURATION,
      "on SIGTERM, how long running stages may finish before they are cancelled and released")
      .defaultValue("30s").validate(Validator.notNegative());

  public static final ConfigKey<Long> LAYER_CACHE_SIZE = ConfigKey.of("layer-cache-size", SIZE,
      "size bound of the extracted-layer cache (LRU; layers in use are never evicted)")
      .defaultValue("10GiB");

  public static final ConfigKey<String> NETWORK = ConfigKey.of("network",
      ConfigType.oneOf("sandbox", "none", "host", "default"),
      "network of `RUN --network=default`: `sandbox` (a namespace per RUN with outbound access through"
          + " `slirp4netns`; the worker host's own addresses and 169.254.0.0/16 unreachable; see docs/security.md,"
          + " \"RUN network\"), `none` (loopback only) or `host` (the worker host's namespace; only with"
          + " `allow-host-network: true`, for hosts without slirp4netns). `default` means `sandbox`. With `sandbox`"
          + " the worker refuses to start when `slirp4netns` is not on PATH")
      .defaultValue("sandbox").label("sandbox|none|host");

  public static final ConfigKey<String> RUNC = ConfigKey.of("runc", STRING, "the runc binary")
      .defaultValue("runc").label("PATH");

  public static final ConfigKey<Long> LOG_RATE = ConfigKey.of("log-rate", SIZE,
      "RUN output streamed per stage per second; more is dropped after a marker")
      .defaultValue("256KiB");

  public static final ConfigKey<Long> LOG_MAX = ConfigKey.of("log-max", SIZE,
      "RUN output streamed per stage in total")
      .defaultValue("8MiB");

  public static final ConfigKey<Long> ADD_URL_MAX_SIZE = ConfigKey.of("add-url-max-size", SIZE,
      "the most one `ADD <url>` may download (streamed to disk); more fails the stage naming the limit")
      .defaultValue("2GiB");

  public static final ConfigKey<Boolean> ALLOW_INSECURE = ConfigKey.of("allow-insecure", BOOLEAN,
      "`true`: run `RUN --security=insecure` with every capability the worker holds, unmasked /proc and a writable"
          + " /sys (BuildKit's `security.insecure` entitlement; no host devices). `false`: such a RUN fails the stage"
          + " with `--security=insecure is not allowed on this farm`. Every RUN with the flag runs privileged on this"
          + " worker, whoever submitted the build: enable it only on farms whose users you trust with root on the"
          + " worker host")
      .defaultValue("false");

  public static final ConfigKey<Boolean> ALLOW_HOST_NETWORK = ConfigKey.of("allow-host-network", BOOLEAN,
      "`true`: run `RUN --network=host` in the worker host's network namespace (BuildKit's `network.host`"
          + " entitlement). `false`: such a RUN fails the stage with `network.host is not allowed` (a build error, not"
          + " retried). A RUN on the host network reaches everything the worker host does, the farm's Kafka, S3 and"
          + " coordinator included: enable it only where every build is trusted")
      .defaultValue("false");

  public static final ConfigKey<Duration> FAULT_PAUSE = ConfigKey.of("fault-pause", DURATION,
      "after a stage failed on an infrastructure fault on this worker (disk, S3, runtime; reported `retriable`),"
          + " the slot claims nothing for this long, so the retry goes to a healthy worker; `0s` turns it off")
      .defaultValue("10s").validate(Validator.notNegative());

  public static final ConfigKey<Long> RUN_MEMORY = ConfigKey.of("run-memory", SIZE,
      "memory cgroup limit of each RUN (its processes together, page cache included; no swap on top). A RUN the"
          + " kernel OOM-kills fails the stage with `RUN was killed: it exceeded the worker's memory limit"
          + " run-memory=2GiB`. `0`: no limit")
      .defaultValue("2GiB")
      // runc itself needs a few MiB in the container's cgroup before the RUN's process starts
      .validate(Validator.zeroOrAtLeast(6L << 20, "6MiB"));

  public static final ConfigKey<Integer> RUN_PIDS = ConfigKey.of("run-pids", INT,
      "the most processes and threads one RUN may have at once (pids cgroup). A RUN that fails after a fork was"
          + " refused fails the stage with `RUN failed: it reached the worker's pids limit run-pids=4096`. `0`: no"
          + " limit")
      .defaultValue("4096").validate(Validator.atLeast(0));

  public static final ConfigKey<Double> RUN_CPUS = ConfigKey.of("run-cpus", DECIMAL,
      "CPU time of each RUN in cores, e.g. `1.5` (CFS quota over a 100 ms period); a RUN over it is slowed, not"
          + " failed. `0`: no limit")
      .computedDefault("the host's cores").validate(Validator.notNegativeNumber());

  public static final ConfigKey<Long> STAGE_DISK = ConfigKey.of("stage-disk", SIZE,
      "what one stage may write in all (the files of its layers, the context files and `ADD` downloads it"
          + " fetches), e.g. `20GiB`: the stage's writable state lives on a loop-mounted ext4 of this size (sparse:"
          + " the host only holds what is written; needs `mkfs.ext4` and loop devices). A stage over it fails naming"
          + " the setting. `0`: no limit. Recommended for a shared farm (security.md)")
      .defaultValue("0").validate(Validator.zeroOrAtLeast(16L << 20, "16MiB"));

  /** The worker's own keys, in documentation order. */
  public static final ConfigKey<String> PLATFORMS = ConfigKey.of("platforms", STRING,
      "the platforms whose stages this worker takes, comma-separated, e.g. `linux/amd64,linux/arm64`: it consumes"
          + " those platforms' task topics (docs/protocol.md, \"Platforms\"). A platform other than the host's needs an"
          + " enabled qemu binfmt_misc handler (Debian's `qemu-user-static`); without one the worker refuses to start"
          + " naming the missing handler")
      .computedDefault("the host's (e.g. `linux/amd64`)").label("OS/ARCH[,…]");

  public static final List<ConfigKey<?>> OWN = List.of(WORK_DIR, CONCURRENCY, WORKER_ID, SHARE_GROUP,
      HEARTBEAT_INTERVAL, POLL_TIMEOUT, SHUTDOWN_GRACE, LAYER_CACHE_SIZE, NETWORK, RUNC, LOG_RATE, LOG_MAX,
      ADD_URL_MAX_SIZE, ALLOW_INSECURE, ALLOW_HOST_NETWORK, FAULT_PAUSE, RUN_MEMORY, RUN_PIDS, RUN_CPUS, STAGE_DISK, PLATFORMS);

  public static final ConfigDef DEF = ConfigDef.of("worker", List.of(CommonKeys.ALL, OWN))
      .withRemoved("secrets-dir", "build secrets come from the client of each build (stagefarm build --secret),"
          + " never from a worker's files (docs/security.md)");
}
