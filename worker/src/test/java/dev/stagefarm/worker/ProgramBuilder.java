package dev.stagefarm.worker;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.program.Action;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.ConfigDelta;
import dev.stagefarm.program.ContextSelection;
import dev.stagefarm.program.CopySource;
import dev.stagefarm.program.InputPath;
import dev.stagefarm.program.Mount;
import dev.stagefarm.program.Op;
import dev.stagefarm.program.OpSource;
import dev.stagefarm.program.ProgramBase;
import dev.stagefarm.program.ProgramInput;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.program.SymbolicMode;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;

/**
 * Builds stage programs in tests, as the coordinator's compiler would emit them for the Dockerfile
 * lines named in each op's source (the worker's tests never use the Dockerfile frontend). Ops get
 * consecutive line numbers from 2 (line 1 is the FROM); every program gets a fresh root key unless
 * one is given, so programs of different tests never share cache records.
 */
public final class ProgramBuilder {
  public static final String DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  private ProgramBase base = new ProgramBase.Image("docker.io/library/busybox@sha256:" + "0".repeat(64));
  private final List<ProgramInput> inputs = new ArrayList<>();
  private final List<Op> ops = new ArrayList<>();
  private CacheKey rootKey = randomKey();
  private Optional<Instant> sourceDateEpoch = Optional.empty();
  private String stageName = "test";
  private int line = 2;

  public static ProgramBuilder program() {
    return new ProgramBuilder();
  }

  public static CacheKey randomKey() {
    return new CacheKey(Digest.of(UUID.randomUUID().toString()).hex());
  }

  public ProgramBuilder base(ProgramBase newBase) {
    base = newBase;
    return this;
  }

  public ProgramBuilder rootKey(CacheKey key) {
    rootKey = key;
    return this;
  }

  public ProgramBuilder sourceDateEpoch(Instant epoch) {
    sourceDateEpoch = Optional.of(epoch);
    return this;
  }

  public ProgramBuilder stageName(String name) {
    stageName = name;
    return this;
  }

  /** Declares stage {@code stageId} (named {@code name} in the Dockerfile) as an input; returns its id via {@link #inputId}. */
  public ProgramBuilder input(String stageId, String name) {
    inputs.add(new ProgramInput(inputId(stageId), randomKey(), name));
    return this;
  }

  public static String inputId(String stageId) {
    return ProgramInput.stageId(stageId);
  }

  /** {@code RUN <command>} in shell form, as root in /, with the default PATH. */
  public ProgramBuilder run(String command) {
    return run(exec(command));
  }

  public ProgramBuilder run(ExecBuilder exec) {
    return op("RUN", "RUN " + exec.text, ConfigDelta.NONE, Optional.of(exec.build()));
  }

  public ProgramBuilder copy(CopyBuilder copy) {
    return op(copy.keyword, copy.keyword + " " + copy.text, ConfigDelta.NONE, Optional.of(copy.build()));
  }

  /** ENV: the config delta only (the ops after it carry the variable in their own env). */
  public ProgramBuilder env(String key, String value) {
    return op("ENV", "ENV " + key + "=" + value,
        ConfigDelta.NONE.withEnv(List.of(new ConfigDelta.KeyValue(key, value))), Optional.empty());
  }

  /** ARG: no delta, no history entry. */
  public ProgramBuilder arg(String text) {
    ops.add(Op.metadata(new OpSource(line++, "ARG " + text, "ARG"), "", ConfigDelta.NONE));
    return this;
  }

  /** WORKDIR: the delta and the directory, owned by {@code owner} (the config's user). */
  public ProgramBuilder workdir(String path, String owner) {
    return op("WORKDIR", "WORKDIR " + path, ConfigDelta.NONE.withWorkingDir(path),
        Optional.of(new Action.Mkdir(path, owner)));
  }

  /** A metadata instruction (USER, LABEL, CMD, …) as the compiler gives it. */
  public ProgramBuilder metadata(String keyword, String text, ConfigDelta delta) {
    return op(keyword, text, delta, Optional.empty());
  }

  public ProgramBuilder op(String keyword, String text, ConfigDelta delta, Optional<Action> action) {
    ops.add(new Op(new OpSource(line++, text, keyword), text, delta, action));
    return this;
  }

  public StageProgram build() {
    return new StageProgram(StageProgram.VERSION, base, inputs, ops, Platform.LINUX_AMD64, rootKey, sourceDateEpoch,
        stageName);
  }

  public static ExecBuilder exec(String command) {
    return new ExecBuilder(List.of("/bin/sh", "-c", command), command);
  }

  /** {@code COPY} to {@code dest} (absolute). */
  public static CopyBuilder copyTo(String dest) {
    return new CopyBuilder("COPY", dest);
  }

  /** {@code ADD} to {@code dest} (absolute): local tar archives are unpacked. */
  public static CopyBuilder addTo(String dest) {
    return new CopyBuilder("ADD", dest).unpack(Action.Unpack.LOCAL);
  }

  /** An exec op under construction. */
  public static final class ExecBuilder {
    private List<String> argv;
    private final String text;
    private final List<String> env = new ArrayList<>(List.of(DEFAULT_PATH));
    private String cwd = "/";
    private String user = "";
    private Action.Network network = Action.Network.DEFAULT;
    private boolean insecure;
    private final List<Mount> mounts = new ArrayList<>();

    private ExecBuilder(List<String> argv, String text) {
      this.argv = argv;
      this.text = text;
    }

    public ExecBuilder argv(String... args) {
      argv = List.of(args);
      return this;
    }

    public ExecBuilder env(String nameValue) {
      env.add(nameValue);
      return this;
    }

    public ExecBuilder cwd(String dir) {
      cwd = dir;
      return this;
    }

    public ExecBuilder user(String name) {
      user = name;
      return this;
    }

    public ExecBuilder network(Action.Network mode) {
      network = mode;
      return this;
    }

    public ExecBuilder insecure() {
      insecure = true;
      return this;
    }

    public ExecBuilder mount(Mount mount) {
      mounts.add(mount);
      return this;
    }

    Action.Exec build() {
      return new Action.Exec(argv, env, cwd, user, network, insecure, mounts);
    }
  }

  /** A COPY/ADD op under construction. */
  public static final class CopyBuilder {
    private final String keyword;
    private final String dest;
    private final List<CopySource> sources = new ArrayList<>();
    private final List<String> exclude = new ArrayList<>();
    private boolean destIsDir;
    private String chown = "";
    private OptionalInt chmod = OptionalInt.empty();
    private Optional<SymbolicMode> chmodSymbolic = Optional.empty();
    private boolean parents;
    private Action.Unpack unpack = Action.Unpack.NEVER;
    private String text;

    private CopyBuilder(String keyword, String dest) {
      this.keyword = keyword;
      this.dest = dest;
      this.destIsDir = dest.endsWith("/");
      this.text = dest;
    }

    public CopyBuilder context(ContextSelection selection) {
      sources.add(new CopySource.FromContext(selection));
      return this;
    }

    public CopyBuilder from(String inputId, String path) {
      sources.add(new CopySource.FromInput(new InputPath(inputId, path)));
      return this;
    }

    public CopyBuilder inline(String name, String content) {
      sources.add(new CopySource.Inline(name, content.getBytes(StandardCharsets.UTF_8)));
      return this;
    }

    public CopyBuilder remote(String url, String checksum, String fileName) {
      sources.add(new CopySource.Remote(url, checksum, fileName, checksum.isEmpty() ? "test-build" : ""));
      return this;
    }

    /** Several sources or a wildcard: the compiler makes dest a directory. */
    public CopyBuilder destIsDir() {
      destIsDir = true;
      return this;
    }

    public CopyBuilder chown(String owner) {
      chown = owner;
      return this;
    }

    public CopyBuilder chmod(int mode) {
      chmod = OptionalInt.of(mode);
      return this;
    }

    public CopyBuilder chmod(String symbolic) {
      chmodSymbolic = Optional.of(SymbolicMode.parse(symbolic));
      return this;
    }

    public CopyBuilder exclude(String pattern) {
      exclude.add(pattern);
      return this;
    }

    public CopyBuilder parents() {
      parents = true;
      return this;
    }

    public CopyBuilder unpack(Action.Unpack mode) {
      unpack = mode;
      return this;
    }

    /** The instruction's text after the keyword, for messages. */
    public CopyBuilder text(String written) {
      text = written;
      return this;
    }

    Action.Copy build() {
      return new Action.Copy(sources, dest, destIsDir, chown, chmod, exclude, parents, false, unpack, chmodSymbolic);
    }
  }
}
