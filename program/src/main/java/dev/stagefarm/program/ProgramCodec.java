package dev.stagefarm.program;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.oci.image.Healthcheck;
import dev.stagefarm.proto.v1.Argv;
import dev.stagefarm.proto.v1.BindMount;
import dev.stagefarm.proto.v1.CacheMount;
import dev.stagefarm.proto.v1.ContextEntry;
import dev.stagefarm.proto.v1.ContextSource;
import dev.stagefarm.proto.v1.CopyOp;
import dev.stagefarm.proto.v1.ExecOp;
import dev.stagefarm.proto.v1.HealthcheckConfig;
import dev.stagefarm.proto.v1.InlineMount;
import dev.stagefarm.proto.v1.InlineSource;
import dev.stagefarm.proto.v1.MkdirOp;
import dev.stagefarm.proto.v1.RemoteSource;
import dev.stagefarm.proto.v1.SecretMount;
import dev.stagefarm.proto.v1.SshMount;
import dev.stagefarm.proto.v1.TmpfsMount;
import com.google.protobuf.ByteString;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Maps programs to and from the wire ({@code stagefarm.v1.StageProgram}, program.proto). Decoding
 * validates what a careless or hostile producer could get wrong: versions, input references,
 * absolute container paths, clean relative context paths, digests and modes. It does not make a
 * program safe to execute on its own: the executor still resolves every path inside its root.
 */
public final class ProgramCodec {
  private ProgramCodec() {}

  // --- to the wire -----------------------------------------------------------------------------

  public static dev.stagefarm.proto.v1.StageProgram toProto(StageProgram program) {
    var out = dev.stagefarm.proto.v1.StageProgram.newBuilder()
        .setVersion(program.version())
        .setBase(toProto(program.base()))
        .setPlatform(dev.stagefarm.proto.v1.Platform.newBuilder()
            .setOs(program.platform().os())
            .setArchitecture(program.platform().architecture())
            .setVariant(program.platform().variant() == null ? "" : program.platform().variant()))
        .setRootKey(program.rootKey().hex())
        .setStageName(program.stageName());
    program.sourceDateEpoch().ifPresent(epoch -> out.setSourceDateEpoch(epoch.getEpochSecond()));
    for (ProgramInput input : program.inputs()) {
      out.addInputs(dev.stagefarm.proto.v1.ProgramInput.newBuilder()
          .setId(input.id()).setKey(input.key().hex()).setName(input.name()));
    }
    program.ops().forEach(op -> out.addOps(toProto(op)));
    return out.build();
  }

  private static dev.stagefarm.proto.v1.ProgramBase toProto(ProgramBase base) {
    var out = dev.stagefarm.proto.v1.ProgramBase.newBuilder();
    switch (base) {
      case ProgramBase.Image image -> out.setImage(image.reference());
      case ProgramBase.Stage stage -> out.setStage(stage.stageId());
      case ProgramBase.Scratch scratch -> out.setScratch(true);
    }
    return out.build();
  }

  public static dev.stagefarm.proto.v1.Op toProto(Op op) {
    var out = dev.stagefarm.proto.v1.Op.newBuilder()
        .setSource(dev.stagefarm.proto.v1.OpSource.newBuilder()
            .setLine(op.source().line()).setText(op.source().text()).setKeyword(op.source().keyword()))
        .setCreatedBy(op.createdBy());
    if (!op.config().isEmpty()) {
      out.setConfig(toProto(op.config()));
    }
    op.action().ifPresent(action -> {
      switch (action) {
        case Action.Exec exec -> out.setExec(toProto(exec));
        case Action.Copy copy -> out.setCopy(toProto(copy));
        case Action.Mkdir mkdir -> out.setMkdir(MkdirOp.newBuilder().setPath(mkdir.path()).setOwner(mkdir.owner()));
      }
    });
    return out.build();
  }

  private static dev.stagefarm.proto.v1.ConfigDelta toProto(ConfigDelta delta) {
    var out = dev.stagefarm.proto.v1.ConfigDelta.newBuilder();
    delta.env().forEach(kv -> out.addEnv(keyValue(kv)));
    delta.labels().forEach(kv -> out.addLabels(keyValue(kv)));
    delta.user().ifPresent(out::setUser);
    delta.workingDir().ifPresent(out::setWorkingDir);
    out.addAllExposedPorts(delta.exposedPorts());
    out.addAllVolumes(delta.volumes());
    delta.cmd().ifPresent(args -> out.setCmd(argv(args)));
    delta.entrypoint().ifPresent(args -> out.setEntrypoint(argv(args)));
    out.setResetCmd(delta.resetCmd());
    delta.shell().ifPresent(args -> out.setShell(argv(args)));
    delta.stopSignal().ifPresent(out::setStopSignal);
    delta.healthcheck().ifPresent(hc -> out.setHealthcheck(HealthcheckConfig.newBuilder()
        .addAllTest(hc.test())
        .setIntervalNs(hc.interval().toNanos())
        .setTimeoutNs(hc.timeout().toNanos())
        .setStartPeriodNs(hc.startPeriod().toNanos())
        .setStartIntervalNs(hc.startInterval().toNanos())
        .setRetries(hc.retries())));
    out.addAllOnbuild(delta.onBuild());
    delta.author().ifPresent(out::setAuthor);
    return out.build();
  }

  private static dev.stagefarm.proto.v1.KeyValue keyValue(ConfigDelta.KeyValue kv) {
    return dev.stagefarm.proto.v1.KeyValue.newBuilder().setKey(kv.key()).setValue(kv.value()).build();
  }

  private static Argv argv(List<String> args) {
    return Argv.newBuilder().addAllArgs(args).build();
  }

  private static ExecOp toProto(Action.Exec exec) {
    var out = ExecOp.newBuilder()
        .addAllArgv(exec.argv())
        .addAllEnv(exec.env())
        .setCwd(exec.cwd())
        .setUser(exec.user())
        .setNetwork(switch (exec.network()) {
          case DEFAULT -> ExecOp.Network.NETWORK_DEFAULT;
          case NONE -> ExecOp.Network.NETWORK_NONE;
          case HOST -> ExecOp.Network.NETWORK_HOST;
        })
        .setSecurity(exec.insecure() ? ExecOp.Security.SECURITY_INSECURE : ExecOp.Security.SECURITY_SANDBOX);
    exec.mounts().forEach(m -> out.addMounts(toProto(m)));
    exec.options().extraHosts().forEach(h ->
        out.addExtraHosts(dev.stagefarm.proto.v1.ExtraHost.newBuilder().setHost(h.host()).setIp(h.ip())));
    out.setShmSizeBytes(exec.options().shmSizeBytes());
    exec.options().ulimits().forEach(u ->
        out.addUlimits(dev.stagefarm.proto.v1.Ulimit.newBuilder().setName(u.name()).setSoft(u.soft()).setHard(u.hard())));
    return out.build();
  }

  /** A request's or an op's --add-host, --shm-size and --ulimit, checked. */
  public static RunOptions runOptions(List<dev.stagefarm.proto.v1.ExtraHost> hosts, long shmSizeBytes,
      List<dev.stagefarm.proto.v1.Ulimit> ulimits) {
    return new RunOptions(
        hosts.stream().map(h -> new RunOptions.ExtraHost(h.getHost(), h.getIp())).toList(),
        shmSizeBytes,
        ulimits.stream().map(u -> new RunOptions.Ulimit(u.getName(), u.getSoft(), u.getHard())).toList());
  }

  private static dev.stagefarm.proto.v1.Mount toProto(Mount mount) {
    var out = dev.stagefarm.proto.v1.Mount.newBuilder().setTarget(mount.target());
    switch (mount) {
      case Mount.Bind bind -> {
        out.setReadonly(bind.readonly());
        var source = BindMount.newBuilder();
        switch (bind.source()) {
          case Mount.FromContext context -> source.setContext(toProto(context.selection()));
          case Mount.FromInput input -> source.setInput(toProto(input.path()));
        }
        out.setBind(source);
      }
      case Mount.Cache cache -> {
        out.setReadonly(cache.readonly());
        var c = CacheMount.newBuilder().setId(cache.id()).setSharing(switch (cache.sharing()) {
          case SHARED -> CacheMount.Sharing.SHARING_SHARED;
          case PRIVATE -> CacheMount.Sharing.SHARING_PRIVATE;
          case LOCKED -> CacheMount.Sharing.SHARING_LOCKED;
        });
        cache.seed().ifPresent(seed -> c.setSeed(toProto(seed)));
        cache.mode().ifPresent(c::setMode);
        cache.uid().ifPresent(c::setUid);
        cache.gid().ifPresent(c::setGid);
        out.setCache(c);
      }
      case Mount.Tmpfs tmpfs -> out.setTmpfs(TmpfsMount.newBuilder().setSizeBytes(tmpfs.sizeBytes()));
      case Mount.Secret secret -> {
        out.setReadonly(true);
        var s = SecretMount.newBuilder().setId(secret.id()).setEnv(secret.env()).setRequired(secret.required());
        secret.mode().ifPresent(s::setMode);
        secret.uid().ifPresent(s::setUid);
        secret.gid().ifPresent(s::setGid);
        out.setSecret(s);
      }
      case Mount.Ssh ssh -> out.setSsh(SshMount.newBuilder().setId(ssh.id()).setRequired(ssh.required()));
      case Mount.Inline inline -> {
        out.setReadonly(true);
        var files = InlineMount.newBuilder().setMode(inline.mode());
        inline.files().forEach(file -> files.addFiles(toProto(file)));
        out.setInline(files);
      }
    }
    return out.build();
  }

  private static CopyOp toProto(Action.Copy copy) {
    var out = CopyOp.newBuilder()
        .setDest(copy.dest())
        .setDestIsDir(copy.destIsDir())
        .setChown(copy.chown())
        .addAllExclude(copy.exclude())
        .setParents(copy.parents())
        .setLink(copy.link())
        .setUnpack(switch (copy.unpack()) {
          case NEVER -> CopyOp.Unpack.UNPACK_NEVER;
          case LOCAL -> CopyOp.Unpack.UNPACK_LOCAL;
          case ALL -> CopyOp.Unpack.UNPACK_ALL;
        });
    copy.chmod().ifPresent(out::setChmod);
    copy.chmodSymbolic().ifPresent(mode -> out.setChmodSymbolic(mode.text()));
    for (CopySource source : copy.sources()) {
      var s = dev.stagefarm.proto.v1.CopySource.newBuilder();
      switch (source) {
        case CopySource.FromContext context -> s.setContext(toProto(context.selection()));
        case CopySource.FromInput input -> s.setInput(toProto(input.path()));
        case CopySource.Inline inline -> s.setInline(toProto(inline));
        case CopySource.Remote remote -> s.setRemote(RemoteSource.newBuilder()
            .setUrl(remote.url())
            .setChecksum(remote.checksum())
            .setFileName(remote.fileName())
            .setUnverifiedInBuild(remote.unverifiedInBuild()));
      }
      out.addSources(s);
    }
    return out.build();
  }

  private static InlineSource toProto(CopySource.Inline inline) {
    return InlineSource.newBuilder().setName(inline.name()).setData(ByteString.copyFrom(inline.data())).build();
  }

  private static ContextSource toProto(ContextSelection selection) {
    var out = ContextSource.newBuilder().setPath(selection.path()).setPlaceAt(selection.placeAt());
    for (ContextFile file : selection.entries()) {
      out.addEntries(ContextEntry.newBuilder()
          .setPath(file.path())
          .setType(switch (file.type()) {
            case FILE -> ContextEntry.Type.FILE;
            case DIRECTORY -> ContextEntry.Type.DIRECTORY;
            case SYMLINK -> ContextEntry.Type.SYMLINK;
          })
          .setMode(file.mode())
          .setDigest(file.digest())
          .setSize(file.size())
          .setLinkTarget(file.linkTarget())
          .setMtimeMs(file.mtimeMs()));
    }
    return out.build();
  }

  private static dev.stagefarm.proto.v1.InputPath toProto(InputPath path) {
    return dev.stagefarm.proto.v1.InputPath.newBuilder().setInput(path.input()).setPath(path.path()).build();
  }

  // --- from the wire ---------------------------------------------------------------------------

  /** @throws InvalidProgramException naming what is wrong */
  public static StageProgram fromProto(dev.stagefarm.proto.v1.StageProgram proto) throws InvalidProgramException {
    if (proto.getVersion() < 1 || proto.getVersion() > StageProgram.VERSION) {
      throw new InvalidProgramException("program version " + proto.getVersion()
          + " is not one this worker understands (1.." + StageProgram.VERSION + ")");
    }
    List<ProgramInput> inputs = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (var input : proto.getInputsList()) {
      if (input.getId().isEmpty() || !ids.add(input.getId())) {
        throw new InvalidProgramException("program input id \"" + input.getId() + "\" is empty or not unique");
      }
      inputs.add(new ProgramInput(input.getId(), key(input.getKey(), "input " + input.getId()), input.getName()));
    }
    Decoder decoder = new Decoder(ids);
    List<Op> ops = new ArrayList<>();
    for (int i = 0; i < proto.getOpsCount(); i++) {
      try {
        ops.add(decoder.op(proto.getOps(i)));
      } catch (InvalidProgramException e) {
        throw new InvalidProgramException("op " + i + " (line " + proto.getOps(i).getSource().getLine() + "): "
            + e.getMessage());
      }
    }
    var p = proto.getPlatform();
    if (p.getOs().isEmpty() || p.getArchitecture().isEmpty()) {
      throw new InvalidProgramException("the program names no platform");
    }
    return new StageProgram(
        proto.getVersion(),
        base(proto.getBase(), ids),
        inputs,
        ops,
        new Platform(p.getOs(), p.getArchitecture(), p.getVariant().isEmpty() ? null : p.getVariant()),
        key(proto.getRootKey(), "root"),
        proto.hasSourceDateEpoch() ? Optional.of(Instant.ofEpochSecond(proto.getSourceDateEpoch())) : Optional.empty(),
        proto.getStageName());
  }

  private static ProgramBase base(dev.stagefarm.proto.v1.ProgramBase base, Set<String> ids)
      throws InvalidProgramException {
    return switch (base.getKindCase()) {
      case IMAGE -> new ProgramBase.Image(base.getImage());
      case STAGE -> new ProgramBase.Stage(base.getStage());
      case SCRATCH -> new ProgramBase.Scratch();
      case KIND_NOT_SET -> throw new InvalidProgramException("the program has no base");
    };
  }

  private static CacheKey key(String hex, String what) throws InvalidProgramException {
    try {
      return new CacheKey(hex);
    } catch (IllegalArgumentException e) {
      throw new InvalidProgramException("the " + what + " key is not a cache key: \"" + hex + "\"");
    }
  }

  /** Decodes ops against the program's declared inputs. */
  private record Decoder(Set<String> inputIds) {

    Op op(dev.stagefarm.proto.v1.Op op) throws InvalidProgramException {
      var source = op.getSource();
      OpSource where = new OpSource(source.getLine(), source.getText(), source.getKeyword());
      ConfigDelta delta = op.hasConfig() ? delta(op.getConfig()) : ConfigDelta.NONE;
      Optional<Action> action = switch (op.getActionCase()) {
        case EXEC -> Optional.of(exec(op.getExec()));
        case COPY -> Optional.of(copy(op.getCopy()));
        case MKDIR -> Optional.of(new Action.Mkdir(absolute(op.getMkdir().getPath(), "WORKDIR"),
            op.getMkdir().getOwner()));
        case ACTION_NOT_SET -> Optional.empty();
      };
      return new Op(where, op.getCreatedBy(), delta, action);
    }

    ConfigDelta delta(dev.stagefarm.proto.v1.ConfigDelta d) throws InvalidProgramException {
      Optional<Healthcheck> healthcheck = Optional.empty();
      if (d.hasHealthcheck()) {
        var hc = d.getHealthcheck();
        healthcheck = Optional.of(new Healthcheck(hc.getTestList(), Duration.ofNanos(hc.getIntervalNs()),
            Duration.ofNanos(hc.getTimeoutNs()), Duration.ofNanos(hc.getStartPeriodNs()),
            Duration.ofNanos(hc.getStartIntervalNs()), hc.getRetries()));
      }
      return new ConfigDelta(
          d.getEnvList().stream().map(kv -> new ConfigDelta.KeyValue(kv.getKey(), kv.getValue())).toList(),
          d.getLabelsList().stream().map(kv -> new ConfigDelta.KeyValue(kv.getKey(), kv.getValue())).toList(),
          d.hasUser() ? Optional.of(d.getUser()) : Optional.empty(),
          d.hasWorkingDir() ? Optional.of(absolute(d.getWorkingDir(), "working dir")) : Optional.empty(),
          d.getExposedPortsList(),
          d.getVolumesList(),
          d.hasCmd() ? Optional.of(d.getCmd().getArgsList()) : Optional.empty(),
          d.hasEntrypoint() ? Optional.of(d.getEntrypoint().getArgsList()) : Optional.empty(),
          d.getResetCmd(),
          d.hasShell() ? Optional.of(d.getShell().getArgsList()) : Optional.empty(),
          d.hasStopSignal() ? Optional.of(d.getStopSignal()) : Optional.empty(),
          healthcheck,
          d.getOnbuildList(),
          d.hasAuthor() ? Optional.of(d.getAuthor()) : Optional.empty());
    }

    Action.Exec exec(ExecOp exec) throws InvalidProgramException {
      if (exec.getArgvCount() == 0) {
        throw new InvalidProgramException("RUN has an empty command");
      }
      List<Mount> mounts = new ArrayList<>();
      for (var mount : exec.getMountsList()) {
        mounts.add(mount(mount));
      }
      Action.Network network = switch (exec.getNetwork()) {
        case NETWORK_DEFAULT -> Action.Network.DEFAULT;
        case NETWORK_NONE -> Action.Network.NONE;
        case NETWORK_HOST -> Action.Network.HOST;
        case UNRECOGNIZED -> throw new InvalidProgramException("unknown RUN network mode " + exec.getNetworkValue());
      };
      boolean insecure = switch (exec.getSecurity()) {
        case SECURITY_SANDBOX -> false;
        case SECURITY_INSECURE -> true;
        case UNRECOGNIZED -> throw new InvalidProgramException("unknown RUN security mode " + exec.getSecurityValue());
      };
      RunOptions options;
      try {
        options = runOptions(exec.getExtraHostsList(), exec.getShmSizeBytes(), exec.getUlimitsList());
      } catch (IllegalArgumentException e) {
        throw new InvalidProgramException("RUN options: " + e.getMessage());
      }
      return new Action.Exec(exec.getArgvList(), exec.getEnvList(), absolute(exec.getCwd(), "working dir"),
          exec.getUser(), network, insecure, mounts, options);
    }

    Mount mount(dev.stagefarm.proto.v1.Mount mount) throws InvalidProgramException {
      return switch (mount.getKindCase()) {
        case BIND -> {
          var bind = mount.getBind();
          Mount.BindSource source = switch (bind.getSourceCase()) {
            case CONTEXT -> new Mount.FromContext(selection(bind.getContext()));
            case INPUT -> new Mount.FromInput(inputPath(bind.getInput()));
            case SOURCE_NOT_SET -> throw new InvalidProgramException("a bind mount has no source");
          };
          yield new Mount.Bind(absolute(mount.getTarget(), "mount target"), mount.getReadonly(), source);
        }
        case CACHE -> {
          var cache = mount.getCache();
          Mount.Sharing sharing = switch (cache.getSharing()) {
            case SHARING_SHARED -> Mount.Sharing.SHARED;
            case SHARING_PRIVATE -> Mount.Sharing.PRIVATE;
            case SHARING_LOCKED -> Mount.Sharing.LOCKED;
            case UNRECOGNIZED -> throw new InvalidProgramException("unknown cache sharing " + cache.getSharingValue());
          };
          yield new Mount.Cache(absolute(mount.getTarget(), "mount target"), mount.getReadonly(), cache.getId(),
              sharing, cache.hasSeed() ? Optional.of(inputPath(cache.getSeed())) : Optional.empty(),
              mode(cache.hasMode(), cache.getMode()), id(cache.hasUid(), cache.getUid()),
              id(cache.hasGid(), cache.getGid()));
        }
        case TMPFS -> {
          if (mount.getTmpfs().getSizeBytes() < 0) {
            throw new InvalidProgramException("a tmpfs mount has a negative size");
          }
          yield new Mount.Tmpfs(absolute(mount.getTarget(), "mount target"), mount.getTmpfs().getSizeBytes());
        }
        case SECRET -> {
          var secret = mount.getSecret();
          if (secret.getId().isEmpty()) {
            throw new InvalidProgramException("a secret mount has no id");
          }
          String target = mount.getTarget().isEmpty() && !secret.getEnv().isEmpty()
              ? "" : absolute(mount.getTarget(), "secret target");
          yield new Mount.Secret(target, secret.getId(), secret.getEnv(), secret.getRequired(),
              mode(secret.hasMode(), secret.getMode()), id(secret.hasUid(), secret.getUid()),
              id(secret.hasGid(), secret.getGid()));
        }
        case SSH -> new Mount.Ssh(absolute(mount.getTarget(), "ssh target"), mount.getSsh().getId(),
            mount.getSsh().getRequired());
        case INLINE -> {
          List<CopySource.Inline> files = new ArrayList<>();
          Set<String> names = new HashSet<>();
          for (var file : mount.getInline().getFilesList()) {
            CopySource.Inline inline = inline(file, "inline file");
            if (!names.add(inline.name())) {
              throw new InvalidProgramException("inline file \"" + inline.name() + "\" appears twice");
            }
            files.add(inline);
          }
          if (files.isEmpty()) {
            throw new InvalidProgramException("an inline mount has no files");
          }
          yield new Mount.Inline(absolute(mount.getTarget(), "inline mount target"), files,
              mode(true, mount.getInline().getMode()).getAsInt());
        }
        case KIND_NOT_SET -> throw new InvalidProgramException("a mount has no type");
      };
    }

    Action.Copy copy(CopyOp copy) throws InvalidProgramException {
      List<CopySource> sources = new ArrayList<>();
      for (var source : copy.getSourcesList()) {
        sources.add(switch (source.getKindCase()) {
          case CONTEXT -> new CopySource.FromContext(selection(source.getContext()));
          case INPUT -> new CopySource.FromInput(inputPath(source.getInput()));
          case INLINE -> inline(source.getInline(), "heredoc file name");
          case REMOTE -> {
            var remote = source.getRemote();
            if (!remote.getChecksum().isEmpty() && !Digest.isValid(remote.getChecksum())) {
              throw new InvalidProgramException("ADD checksum \"" + remote.getChecksum() + "\" is not a digest");
            }
            yield new CopySource.Remote(remote.getUrl(), remote.getChecksum(), plainName(remote.getFileName(),
                "ADD file name"), remote.getUnverifiedInBuild());
          }
          case KIND_NOT_SET -> throw new InvalidProgramException("a COPY source has no kind");
        });
      }
      Action.Unpack unpack = switch (copy.getUnpack()) {
        case UNPACK_NEVER -> Action.Unpack.NEVER;
        case UNPACK_LOCAL -> Action.Unpack.LOCAL;
        case UNPACK_ALL -> Action.Unpack.ALL;
        case UNRECOGNIZED -> throw new InvalidProgramException("unknown unpack mode " + copy.getUnpackValue());
      };
      Optional<SymbolicMode> symbolic = Optional.empty();
      if (!copy.getChmodSymbolic().isEmpty()) {
        if (copy.hasChmod()) {
          throw new InvalidProgramException("a copy has both an octal and a symbolic --chmod");
        }
        try {
          symbolic = Optional.of(SymbolicMode.parse(copy.getChmodSymbolic()));
        } catch (IllegalArgumentException e) {
          throw new InvalidProgramException("--chmod=" + copy.getChmodSymbolic() + ": " + e.getMessage());
        }
      }
      return new Action.Copy(sources, absolute(copy.getDest(), "destination"), copy.getDestIsDir(), copy.getChown(),
          mode(copy.hasChmod(), copy.getChmod()), copy.getExcludeList(), copy.getParents(), copy.getLink(), unpack,
          symbolic);
    }

    ContextSelection selection(ContextSource source) throws InvalidProgramException {
      String path = relative(source.getPath(), "context path", true);
      String placeAt = relative(source.getPlaceAt(), "placement", true);
      List<ContextFile> entries = new ArrayList<>();
      Set<String> seen = new HashSet<>();
      boolean hasRoot = false;
      for (ContextEntry entry : source.getEntriesList()) {
        String entryPath = relative(entry.getPath(), "context entry", true);
        if (!seen.add(entryPath)) {
          throw new InvalidProgramException("context entry \"" + entryPath + "\" appears twice");
        }
        hasRoot |= entryPath.isEmpty();
        ContextFile.Type type = switch (entry.getType()) {
          case FILE -> ContextFile.Type.FILE;
          case DIRECTORY -> ContextFile.Type.DIRECTORY;
          case SYMLINK -> ContextFile.Type.SYMLINK;
          case UNRECOGNIZED -> throw new InvalidProgramException("context entry \"" + entryPath + "\" has an unknown type");
        };
        if (type == ContextFile.Type.FILE && !Digest.isValid(entry.getDigest())) {
          throw new InvalidProgramException("context file \"" + entryPath + "\" has no valid digest");
        }
        if (entry.getMode() > 07777 || entry.getSize() < 0) {
          throw new InvalidProgramException("context entry \"" + entryPath + "\" has a bad mode or size");
        }
        entries.add(new ContextFile(entryPath, type, entry.getMode(), entry.getDigest(), entry.getSize(),
            entry.getLinkTarget(), entry.getMtimeMs()));
      }
      if (!hasRoot) {
        throw new InvalidProgramException("context selection \"" + path + "\" has no entry for the match itself");
      }
      return new ContextSelection(path, placeAt, entries);
    }

    InputPath inputPath(dev.stagefarm.proto.v1.InputPath path) throws InvalidProgramException {
      if (!inputIds.contains(path.getInput())) {
        throw new InvalidProgramException("reads input \"" + path.getInput() + "\", which the program does not declare");
      }
      return new InputPath(path.getInput(), path.getPath());
    }

    private static OptionalInt mode(boolean present, int mode) throws InvalidProgramException {
      if (!present) {
        return OptionalInt.empty();
      }
      if (mode < 0 || mode > 07777) {
        throw new InvalidProgramException("mode " + Integer.toOctalString(mode) + " is out of range");
      }
      return OptionalInt.of(mode);
    }

    private static OptionalInt id(boolean present, int id) throws InvalidProgramException {
      if (!present) {
        return OptionalInt.empty();
      }
      if (id < 0) {
        throw new InvalidProgramException("uid/gid " + Integer.toUnsignedString(id) + " is out of range");
      }
      return OptionalInt.of(id);
    }

    private static CopySource.Inline inline(InlineSource file, String what) throws InvalidProgramException {
      return new CopySource.Inline(plainName(file.getName(), what), file.getData().toByteArray());
    }

    /** A file name alone: not empty, no '/', not "." or "..", no NUL. */
    private static String plainName(String name, String what) throws InvalidProgramException {
      if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..") || name.indexOf('\0') >= 0) {
        throw new InvalidProgramException(what + " \"" + name + "\" is not a plain file name");
      }
      return name;
    }

    /** An absolute container path: starts with '/', no NUL. */
    private static String absolute(String path, String what) throws InvalidProgramException {
      if (!path.startsWith("/") || path.indexOf('\0') >= 0) {
        throw new InvalidProgramException("the " + what + " \"" + path + "\" is not an absolute path");
      }
      return path;
    }

    /** A clean relative path: no leading '/', no empty, "." or ".." component, no NUL. */
    private static String relative(String path, String what, boolean emptyAllowed) throws InvalidProgramException {
      if (path.isEmpty()) {
        if (emptyAllowed) {
          return path;
        }
        throw new InvalidProgramException("the " + what + " is empty");
      }
      if (path.startsWith("/") || path.indexOf('\0') >= 0) {
        throw new InvalidProgramException("the " + what + " \"" + path + "\" is not a clean relative path");
      }
      for (String part : path.split("/", -1)) {
        if (part.isEmpty() || part.equals(".") || part.equals("..")) {
          throw new InvalidProgramException("the " + what + " \"" + path + "\" is not a clean relative path");
        }
      }
      return path;
    }
  }
}
