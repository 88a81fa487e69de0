package dev.stagefarm.program;

import dev.stagefarm.oci.Platform;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/** Sample programs that use every kind of op, mount and source. */
final class Programs {
  static final CacheKey BUILD_KEY = new CacheKey("b".repeat(64));
  static final CacheKey IMAGE_KEY = new CacheKey("c".repeat(64));
  static final ProgramInput BUILD = new ProgramInput(ProgramInput.stageId("1-build"), BUILD_KEY, "build");
  static final ProgramInput ALPINE =
      new ProgramInput(ProgramInput.imageId("docker.io/library/alpine@sha256:" + "d".repeat(64)), IMAGE_KEY, "alpine");

  private Programs() {}

  static ContextSelection appDir(long mtime) {
    return new ContextSelection("app", "", List.of(
        new ContextFile("", ContextFile.Type.DIRECTORY, 0755, "", 0, "", mtime),
        new ContextFile("main.go", ContextFile.Type.FILE, 0644, "sha256:" + "1".repeat(64), 12, "", mtime),
        new ContextFile("link", ContextFile.Type.SYMLINK, 0777, "", 0, "main.go", mtime)));
  }

  static Op env() {
    return Op.metadata(new OpSource(2, "ENV A=1", "ENV"), "ENV A=1",
        ConfigDelta.NONE.withEnv(List.of(new ConfigDelta.KeyValue("A", "1"))));
  }

  static Op copyApp(long mtime, int line) {
    return Op.of(new OpSource(line, "COPY app /src/", "COPY"), "COPY app /src/",
        new Action.Copy(List.of(new CopySource.FromContext(appDir(mtime))), "/src/", true, "", OptionalInt.empty(),
            List.of(), false, false, Action.Unpack.NEVER));
  }

  static Op copyFromBuild(String path) {
    return Op.of(new OpSource(4, "COPY --from=build " + path + " /bin/", "COPY"), "COPY --from=build " + path + " /bin/",
        new Action.Copy(List.of(new CopySource.FromInput(new InputPath(BUILD.id(), path))), "/bin/", true, "1000:1000",
            OptionalInt.of(0755), List.of("*.tmp"), false, false, Action.Unpack.NEVER));
  }

  static Op run() {
    return Op.of(new OpSource(5, "RUN --mount=type=cache,target=/c make", "RUN"), "RUN make",
        new Action.Exec(List.of("/bin/sh", "-c", "make"), List.of("PATH=/bin", "A=1"), "/src", "app",
            Action.Network.NONE, false, List.of(
                new Mount.Cache("/c", false, "/c", Mount.Sharing.LOCKED,
                    Optional.of(new InputPath(ALPINE.id(), "/var/cache")), OptionalInt.of(0700), OptionalInt.of(1),
                    OptionalInt.empty()),
                new Mount.Bind("/ctx", true, new Mount.FromContext(appDir(7))),
                new Mount.Bind("/b", false, new Mount.FromInput(new InputPath(BUILD.id(), "/out"))),
                new Mount.Tmpfs("/tmp", 1 << 20),
                new Mount.Secret("", "token", "TOKEN", true, OptionalInt.empty(), OptionalInt.empty(),
                    OptionalInt.empty()),
                new Mount.Ssh("/run/ssh", "default", false))));
  }

  static Op heredocAndUrl() {
    return Op.of(new OpSource(6, "ADD <<EOF https://x/y.tgz /opt/", "ADD"), "ADD <<EOF https://x/y.tgz /opt/",
        new Action.Copy(List.of(
            new CopySource.Inline("EOF", "hello\n".getBytes(StandardCharsets.UTF_8)),
            new CopySource.Remote("https://x/y.tgz", "", "y.tgz", "build-1")),
            "/opt/", true, "", OptionalInt.empty(), List.of(), false, false, Action.Unpack.ALL));
  }

  static Op workdir() {
    return new Op(new OpSource(7, "WORKDIR /app", "WORKDIR"), "WORKDIR /app",
        ConfigDelta.NONE.withWorkingDir("/app"), Optional.of(new Action.Mkdir("/app", "app")));
  }

  static Op arg() {
    return Op.metadata(new OpSource(3, "ARG V", "ARG"), "", ConfigDelta.NONE);
  }

  static StageProgram program(List<Op> ops) {
    return new StageProgram(StageProgram.VERSION, new ProgramBase.Image("docker.io/library/busybox@sha256:" + "a".repeat(64)),
        List.of(BUILD, ALPINE), ops, Platform.LINUX_AMD64, new CacheKey("e".repeat(64)), Optional.empty(), "final");
  }

  static StageProgram everything() {
    return program(List.of(env(), arg(), copyApp(1000, 3), copyFromBuild("/out/*"), run(), heredocAndUrl(), workdir()));
  }
}
