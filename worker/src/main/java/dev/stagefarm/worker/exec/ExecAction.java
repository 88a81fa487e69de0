package dev.stagefarm.worker.exec;

import dev.stagefarm.program.Action;
import dev.stagefarm.program.BuildSecrets;
import dev.stagefarm.program.InputPath;
import dev.stagefarm.program.CopySource;
import dev.stagefarm.program.Mount;
import dev.stagefarm.worker.StageProgress;
import dev.stagefarm.worker.UserError;
import dev.stagefarm.worker.layers.XattrIndex;
import dev.stagefarm.worker.runtime.ContainerSpec;
import dev.stagefarm.worker.runtime.LimitEvents;
import dev.stagefarm.worker.runtime.Mounts;
import dev.stagefarm.worker.runtime.ResolvedUser;
import dev.stagefarm.worker.runtime.RootfsPaths;
import dev.stagefarm.worker.runtime.RunLimits;
import dev.stagefarm.worker.runtime.Runc;
import dev.stagefarm.worker.runtime.UserResolver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Executes one RUN in a runc container over the op's overlay: its argv (shell form already
 * applied), env, user, working dir, network, and mounts.
 * Mount points the container needed but the image lacked are removed from the upper dir
 * afterwards, so they do not end up in the layer (BuildKit does the same).
 */
final class ExecAction {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ExecAction.class);
  private static final List<String> STANDARD_MOUNT_POINTS = List.of(
      "/proc", "/dev", "/sys", "/etc/hosts", "/etc/resolv.conf", "/etc/hostname");
  private static final Map<String, ReentrantLock> CACHE_LOCKS = new ConcurrentHashMap<>();

  private final RunEnvironment environment;

  ExecAction(RunEnvironment environment) {
    this.environment = environment;
  }

  /**
   * Runs {@code exec}; returns normally when it exited 0, with the upper dir's xattrs when it had to read
   * them (to tell an opaque dir from a copied-up one: the snapshot then takes them instead of reading them
   * again), else null.
   *
   * @throws UserError when it exited non-zero, or its user, mounts or security mode are the build's error
   */
  XattrIndex execute(Action.Exec exec, int op, StageWorkspace.Layered fs, StageSources sources, StageProgress progress,
      RunOutput.OutputBudget budget, String containerId, BuildSecrets secrets)
      throws IOException, UserError, InterruptedException {
    boolean privileged = exec.insecure();
    if (privileged && !environment.allowInsecure()) {
      // BuildKit refuses it without the security.insecure entitlement; running it sandboxed would hide that
      throw new UserError("--security=insecure is not allowed on this farm (the worker setting allow-insecure is false)");
    }
    RunNetworks.Mode networkMode = environment.networks().modeFor(exec.network());
    Path rootfs = fs.merged;
    ResolvedUser user = UserResolver.resolve(rootfs, exec.user());
    String cwd = exec.cwd().isEmpty() ? "/" : exec.cwd();
    Path cwdOnHost = RootfsPaths.resolveLenient(rootfs, cwd);
    if (!Files.isDirectory(cwdOnHost)) {
      Files.createDirectories(cwdOnHost);
    }
    List<String> processEnv = new ArrayList<>(exec.env());
    if (processEnv.stream().noneMatch(e -> e.startsWith("HOME="))) {
      processEnv.add("HOME=" + user.home());
    }
    Path scratch = fs.upper.resolveSibling("r" + fs.upper.getFileName());
    List<ContainerSpec.Mount> mounts = new ArrayList<>();
    List<ReentrantLock> held = new ArrayList<>();
    List<Path> tmpfsMounts = new ArrayList<>();
    List<String> mountPoints = new ArrayList<>(STANDARD_MOUNT_POINTS);
    RunNetworks.Attached network = null;
    try {
      // secret values (files, and the bundle whose config.json holds env secrets) live on a tmpfs: never on disk
      Path secretDir = null;
      if (exec.mounts().stream().anyMatch(m -> m instanceof Mount.Secret)) {
        secretDir = scratch.resolve("secrets");
        // room for each mounted value (an id may be mounted at several targets) and the bundle
        long size = (1 << 20) + exec.mounts().stream().filter(m -> m instanceof Mount.Secret)
            .mapToLong(m -> secrets.value(((Mount.Secret) m).id()).map(v -> v.length).orElse(0)).sum();
        Mounts.tmpfs(secretDir, "mode=0700,size=" + size);
        tmpfsMounts.add(secretDir);
      }
      for (Mount m : exec.mounts()) {
        ContainerSpec.Mount mount = m instanceof Mount.Secret secret
            ? secretMount(secret, secrets, secretDir, processEnv)
            : prepareMount(m, op, scratch, sources, processEnv, held, tmpfsMounts);
        if (mount != null) {
          mounts.add(mount);
          mountPoints.add(mount.destination());
        }
      }
      List<Path> stubs = missingMountPoints(rootfs, mountPoints);
      Map<Path, List<Long>> anchors = stubAnchors(rootfs, stubs);
      long networkStart = System.nanoTime();
      network = environment.networks().attach(networkMode);
      long networkMillis = (System.nanoTime() - networkStart) / 1_000_000;
      List<String> args = exec.argv();
      ContainerSpec spec = new ContainerSpec(rootfs, args, processEnv, cwd, user, "buildkitsandbox", network.network(),
          mounts, privileged, exec.options());
      Path bundle = environment.bundles().write((secretDir != null ? secretDir : scratch).resolve("bundle"), spec,
          network.resolvConf());
      long runcStart = System.nanoTime();
      RunOutput output = new RunOutput(progress, op, budget, secrets.values());
      Runc.Result result;
      AutoCloseable flusher = output.flushPeriodically();
      try {
        result = environment.runc().runInspected(containerId, bundle, output);
      } finally {
        closeQuietly(flusher);
        output.finish();
        // Runc.runInspected deletes the container once it has read its cgroups, also when interrupted
      }
      log.debug("RUN {}: network {} ms, runc {} ms", op, networkMillis, (System.nanoTime() - runcStart) / 1_000_000);
      removeStubs(rootfs, fs.upper, stubs);
      XattrIndex upperXattrs = pruneCopiedUpAnchors(fs.upper, anchors);
      int exit = result.exitCode();
      if (exit != 0) {
        limitHit(result.limits(), environment.bundles().limits(), exit, output);
        Optional<String> disk = fs.exhaustedDisk();
        if (disk.isPresent()) {
          throw new UserError("RUN failed: the stage used up its disk, the worker's limit " + disk.get()
              + " (exit code: " + exit + ")", exit, output.tail());
        }
        throw new UserError("process \"" + String.join(" ", args) + "\" did not complete successfully: exit code: "
            + exit, exit, output.tail());
      }
      return upperXattrs;
    } finally {
      if (network != null) {
        network.close(); // a sandbox namespace is torn down in the background, never reused
      }
      for (Path t : tmpfsMounts) {
        Mounts.unmount(t);
      }
      held.forEach(ReentrantLock::unlock);
      dev.stagefarm.worker.layers.Trees.deleteRecursively(scratch);
    }
  }

  /**
   * Fails a RUN that exited non-zero after running into a cgroup limit with an error naming the
   * worker setting, so the user knows it was the farm's limit and not the command that failed.
   */
  private static void limitHit(LimitEvents events, RunLimits limits, int exit, RunOutput output) throws UserError {
    if (events.oomKills() > 0) {
      throw new UserError("RUN was killed: it exceeded the worker's memory limit " + limits.memorySetting()
          + " (exit code: " + exit + ")", exit, output.tail());
    }
    if (events.pidsRefused() > 0) {
      throw new UserError("RUN failed: it reached the worker's pids limit " + limits.pidsSetting()
          + " (a process could not be started; exit code: " + exit + ")", exit, output.tail());
    }
  }

  private ContainerSpec.Mount prepareMount(Mount m, int op, Path scratch, StageSources sources,
      List<String> processEnv, List<ReentrantLock> held, List<Path> tmpfsMounts) throws IOException, UserError {
    String target = m.target();
    switch (m) {
      case Mount.Cache cache -> {
        Path seed = null;
        String scope = cache.id().isEmpty() ? target : cache.id();
        if (!sources.cacheScope().isEmpty()) {
          // per owner: another client's RUN with the same id must neither read nor poison this one's files
          scope = "owner\0" + sources.cacheScope() + "\0" + scope;
        }
        if (cache.seed().isPresent()) {
          InputPath from = cache.seed().get();
          seed = cacheSeed(from, sources);
          // BuildKit keys a cache mount with from= by its source too: another source is another cache
          scope += "\0from\0" + sources.inputIdentity(from.input()) + "\0" + from.path();
        }
        // the id is the Dockerfile's text: its hash names the directory, so no id ("..", "/", "a/../..")
        // can name another place on the worker
        String id = dev.stagefarm.oci.Digest.of(scope).hex();
        Path dir = environment.cacheMounts().resolve(id);
        if (cache.sharing() == Mount.Sharing.LOCKED) {
          ReentrantLock lock = CACHE_LOCKS.computeIfAbsent(dir.toString(), k -> new ReentrantLock());
          lock.lock(); // one writer at a time; the others wait
          held.add(lock);
        } else if (cache.sharing() == Mount.Sharing.PRIVATE) {
          // the first instance of this cache no other RUN holds right now; a new one when all are busy
          for (int n = 0; ; n++) {
            Path candidate = environment.cacheMounts().resolve(n == 0 ? id : id + "~" + n);
            ReentrantLock lock = CACHE_LOCKS.computeIfAbsent(candidate.toString(), k -> new ReentrantLock());
            if (lock.tryLock()) {
              held.add(lock);
              dir = candidate;
              break;
            }
          }
        }
        if (!Files.isDirectory(dir)) {
          createCacheDir(dir, seed, cache);
        }
        return ContainerSpec.Mount.bind(dir, target, cache.readonly());
      }
      case Mount.Tmpfs tmpfs -> {
        return ContainerSpec.Mount.tmpfs(target, tmpfs.sizeBytes());
      }
      case Mount.Secret secret -> throw new IllegalStateException("secret mounts are prepared by secretMount");
      case Mount.Bind bind -> {
        Path source = switch (bind.source()) {
          case Mount.FromContext context -> sources.context(context.selection(), op);
          case Mount.FromInput input -> {
            Path root = sources.input(input.path().input());
            Path p = RootfsPaths.resolveLenient(root, input.path().path().isEmpty() ? "/" : input.path().path());
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
              throw new UserError("RUN --mount=type=bind: source \"" + input.path().path() + "\" not found in "
                  + sources.inputName(input.path().input()));
            }
            yield p;
          }
        };
        if (!bind.readonly()) {
          // rw bind: writes are thrown away (BuildKit), so give the container a private copy
          Path copy = scratch.resolve("bind-" + tmpfsMounts.size() + "-" + System.nanoTime());
          Files.createDirectories(copy.getParent());
          dev.stagefarm.worker.runtime.HostProcess.run(List.of("cp", "-a", source.toString(), copy.toString()), null);
          source = copy;
        }
        return ContainerSpec.Mount.bind(source, target, bind.readonly());
      }
      case Mount.Ssh ssh -> throw new UserError("RUN --mount=type=ssh is not supported by stagefarm workers");
      case Mount.Inline inline -> {
        // the program's files (a shebang heredoc) live in the RUN's scratch dir, bound read-only: never in a layer
        Path dir = scratch.resolve("inline-" + System.nanoTime());
        Files.createDirectories(dir);
        FileAttrs.setMode(dir, 0755);
        for (CopySource.Inline file : inline.files()) {
          Path path = dir.resolve(file.name());
          Files.write(path, file.data());
          FileAttrs.setMode(path, inline.mode());
        }
        return ContainerSpec.Mount.bind(dir, target, true);
      }
    }
  }

  /**
   * A secret the build's client sent, as a read-only file on the RUN's secret tmpfs and/or an
   * environment variable; null when the RUN gets no file (env only, or an optional secret the client
   * did not send: the RUN runs without it, as in BuildKit).
   */
  private static ContainerSpec.Mount secretMount(Mount.Secret secret, BuildSecrets secrets, Path dir,
      List<String> processEnv) throws IOException, UserError {
    String id = secret.id();
    java.util.Optional<byte[]> sent = secrets.value(id);
    if (sent.isEmpty()) {
      if (secret.required()) {
        throw new UserError("secret " + id + " is required but the build did not send it (stagefarm build --secret id="
            + id + ",src=FILE or --secret id=" + id + ",env=VARIABLE)");
      }
      return null;
    }
    byte[] value = sent.get();
    if (!secret.env().isEmpty()) {
      processEnv.add(secret.env() + "=" + new String(value, StandardCharsets.UTF_8));
      if (secret.target().isEmpty()) {
        return null; // env only
      }
    }
    Path file = Files.createTempFile(dir, "value-", "");
    Files.write(file, value);
    FileAttrs.setMode(file, secret.mode().orElse(0400));
    FileAttrs.chown(file, secret.uid().orElse(0), secret.gid().orElse(0));
    String dest = secret.target().isEmpty() ? "/run/secrets/" + id : secret.target();
    return ContainerSpec.Mount.bind(file, dest, true);
  }

  /** The directory {@code from=}/{@code source=} name, which a new cache dir starts as a copy of. */
  private static Path cacheSeed(InputPath from, StageSources sources) throws IOException, UserError {
    Path fromRoot = sources.input(from.input());
    Path seed = RootfsPaths.resolveLenient(fromRoot, from.path().isEmpty() ? "/" : from.path());
    if (!Files.isDirectory(seed)) {
      throw new UserError("RUN --mount=type=cache: source \"" + from.path() + "\" is not a directory in "
          + sources.inputName(from.input()));
    }
    return seed;
  }

  /**
   * Creates a cache dir: empty with the mount's mode/uid/gid, or a copy of {@code seed}. It is built
   * beside its final name and renamed into place, so a RUN on another slot never sees it half seeded.
   */
  private void createCacheDir(Path dir, Path seed, Mount.Cache m) throws IOException {
    Files.createDirectories(dir.getParent());
    Path building = Files.createTempDirectory(dir.getParent(), ".building-");
    try {
      if (seed == null) {
        FileAttrs.setMode(building, m.mode().orElse(0755));
        FileAttrs.chown(building, m.uid().orElse(0), m.gid().orElse(0));
      } else {
        dev.stagefarm.worker.runtime.HostProcess.run(
            List.of("cp", "-a", "--", seed + "/.", building + "/"), null);
      }
      Files.move(building, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
      // another RUN created it first: use theirs
    } finally {
      if (Files.exists(building, LinkOption.NOFOLLOW_LINKS)) {
        dev.stagefarm.worker.layers.Trees.deleteRecursively(building);
      }
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception ignored) {
      // stopping a flusher thread cannot fail
    }
  }

  private static String sanitize(String id) {
    return id.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  /** For each mount point missing in the rootfs: the topmost missing path runc will create. */
  private static List<Path> missingMountPoints(Path rootfs, List<String> destinations) throws IOException {
    List<Path> missing = new ArrayList<>();
    for (String dest : destinations) {
      Path p = RootfsPaths.resolveLenient(rootfs, dest);
      if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      Path top = p;
      while (top.getParent() != null && !top.getParent().equals(rootfs)
          && !Files.exists(top.getParent(), LinkOption.NOFOLLOW_LINKS)) {
        top = top.getParent();
      }
      missing.add(rootfs.relativize(p));
      missing.add(rootfs.relativize(top));
    }
    return missing;
  }

  /**
   * The existing directories above each stub (relative path → mode, uid, gid before the RUN).
   * Creating a stub copies its parent directories up into the upper dir; when the RUN left them
   * as they were, they must not become layer entries.
   */
  private static Map<Path, List<Long>> stubAnchors(Path rootfs, List<Path> stubs) throws IOException {
    Map<Path, List<Long>> anchors = new java.util.HashMap<>();
    for (int i = 1; i < stubs.size(); i += 2) {
      for (Path p = stubs.get(i).getParent(); p != null; p = p.getParent()) {
        Path onHost = rootfs.resolve(p.toString());
        if (!anchors.containsKey(p) && Files.isDirectory(onHost, LinkOption.NOFOLLOW_LINKS)) {
          anchors.put(p, List.of((long) FileAttrs.mode(onHost), FileAttrs.uid(onHost), FileAttrs.gid(onHost)));
        }
      }
    }
    return anchors;
  }

  /**
   * Drops anchor dirs from the upper dir that are empty, not opaque and unchanged, deepest first. Returns the
   * upper dir's xattrs (without the dropped dirs) when it read them — one {@code getfattr -R} for all anchors
   * instead of one per anchor — else null.
   */
  private static XattrIndex pruneCopiedUpAnchors(Path upper, Map<Path, List<Long>> anchors) throws IOException {
    List<Path> deepestFirst = anchors.keySet().stream()
        .sorted((a, b) -> Integer.compare(b.getNameCount(), a.getNameCount()))
        .toList();
    XattrIndex xattrs = null;
    List<String> dropped = new ArrayList<>();
    for (Path rel : deepestFirst) {
      Path inUpper = upper.resolve(rel.toString());
      if (!Files.isDirectory(inUpper, LinkOption.NOFOLLOW_LINKS)) {
        continue;
      }
      try (var s = Files.list(inUpper)) {
        if (s.findAny().isPresent()) {
          continue;
        }
      }
      List<Long> now = List.of((long) FileAttrs.mode(inUpper), FileAttrs.uid(inUpper), FileAttrs.gid(inUpper));
      if (!now.equals(anchors.get(rel))) {
        continue;
      }
      if (xattrs == null) {
        // the container has ended: nothing changes the upper dir's xattrs any more (removing stubs and empty
        // dirs changes no other entry's), so this is what the snapshot would read
        xattrs = XattrIndex.read(upper);
      }
      if (!xattrs.opaque(rel.toString())) {
        Files.delete(inUpper);
        dropped.add(rel.toString());
      }
    }
    return xattrs == null ? null : xattrs.without(dropped);
  }

  /** Removes mount-point stubs (empty files or dirs runc created) from the upper dir, deepest first. */
  private static void removeStubs(Path rootfs, Path upper, List<Path> stubs) throws IOException {
    for (int i = 0; i < stubs.size(); i += 2) {
      Path deepest = stubs.get(i);
      Path top = stubs.get(i + 1);
      for (Path p = deepest; p != null; p = p.getParent()) {
        Path inUpper = upper.resolve(p.toString());
        if (Files.isDirectory(inUpper, LinkOption.NOFOLLOW_LINKS)) {
          try (var s = Files.list(inUpper)) {
            if (s.findAny().isPresent()) {
              break;
            }
          }
          Files.delete(inUpper);
        } else if (Files.isRegularFile(inUpper, LinkOption.NOFOLLOW_LINKS) && Files.size(inUpper) == 0) {
          Files.delete(inUpper);
        }
        if (p.equals(top)) {
          break;
        }
      }
    }
  }
}
