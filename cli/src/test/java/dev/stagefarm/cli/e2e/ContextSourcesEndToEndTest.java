package dev.stagefarm.cli.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.stagefarm.cli.ExitCodes;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.cli.farm.InProcessWorkers;
import dev.stagefarm.cli.farm.WorkerLauncher;
import dev.stagefarm.testkit.BusyboxImage;
import dev.stagefarm.testkit.RegistryFixture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Build inputs from elsewhere than a directory or a registry ({@code --build-context NAME=oci-layout://…})
 * and {@code --network host}, through a real farm (Kafka, S3, runc workers).
 */
class ContextSourcesEndToEndTest {

  /**
   * {@code --network host} on a farm whose worker allows it: the RUN reaches a server on the worker host's
   * loopback, which the default (sandbox) network cannot; the shared farm's workers refuse it.
   */
  @Test
  void networkHostReachesTheWorkerHostOnlyWhereTheWorkerAllowsIt(@TempDir Path dir) throws Exception {
    String token = UUID.randomUUID().toString();
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/token", exchange -> {
      byte[] body = token.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    RegistryFixture registry = RegistryFixture.shared();
    BusyboxImage.pushTo(registry);
    String busybox = registry.reference(BusyboxImage.REPOSITORY + ":" + BusyboxImage.TAG).toString();
    WorkerLauncher hostAllowed = config -> InProcessWorkers.launcher().start(config.withNetwork(config.network(), true));
    try (EmbeddedFarm farm = PrivateFarm.start(dir.resolve("home"), 1, 0, hostAllowed)) {
      Path ctx = Files.createDirectories(dir.resolve("ctx"));
      Files.writeString(ctx.resolve("Dockerfile"), """
          FROM %s
          RUN echo %s && printf 'GET /token HTTP/1.0\\r\\n\\r\\n' | nc -w 5 127.0.0.1 %d > /got.txt
          """.formatted(busybox, UUID.randomUUID(), server.getAddress().getPort()));
      Path out = dir.resolve("out");

      FarmUnderTest.Result host = FarmUnderTest.buildOn(farm.endpoint(), "--network", "host",
          "-o", "type=local,dest=" + out, ctx.toString());

      assertThat(host.exitCode()).as(host.stderr()).isZero();
      assertThat(Files.readString(out.resolve("got.txt"))).startsWith("HTTP/1.1 200").endsWith(token);
        // the sandbox network's 127.0.0.1 is the RUN's own: nothing listens there
      FarmUnderTest.Result sandbox = FarmUnderTest.buildOn(farm.endpoint(), ctx.toString());
      assertThat(sandbox.exitCode()).as(sandbox.stderr()).isEqualTo(ExitCodes.BUILD_FAILED);
      // a worker without allow-host-network refuses it, naming the setting
      FarmUnderTest.Result refused = FarmUnderTest.build("--network", "host", ctx.toString());
      assertThat(refused.exitCode()).isNotZero();
      assertThat(refused.stderr()).contains("allow-host-network");
    } finally {
      server.stop(0);
    }
  }

  /** The testkit busybox, copied by skopeo from the farm's registry into an OCI layout directory. */
  private static Path busyboxLayout(Path dir) throws Exception {
    Path layout = dir.resolve("layout");
    run("skopeo", "copy", "--src-tls-verify=false", "docker://" + FarmUnderTest.busybox(), "oci:" + layout + ":latest");
    return layout;
  }

  @Test
  void anOciLayoutIsTheImageOfFromAndCopyFrom(@TempDir Path dir) throws Exception {
    Path layout = busyboxLayout(dir);
    String manifest = manifestDigest(layout);
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), """
        FROM base
        COPY --from=tools /bin/busybox /tools-busybox
        RUN echo %s > /ran.txt
        """.formatted(UUID.randomUUID()));
    Path out = dir.resolve("out");

    FarmUnderTest.Result result = FarmUnderTest.build("--build-context", "base=oci-layout://" + layout,
        "--build-context", "tools=oci-layout://" + layout + "@" + manifest, "-o", "type=local,dest=" + out,
        ctx.toString());

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(out.resolve("bin/busybox")).isRegularFile(); // FROM base is the layout's image
    assertThat(out.resolve("tools-busybox")).hasSameBinaryContentAs(out.resolve("bin/busybox"));
    assertThat(out.resolve("ran.txt")).isRegularFile(); // and its RUN ran on a worker, on that root filesystem
  }

  @Test
  void bakeTargetsNameAnOciLayoutInTheirContexts(@TempDir Path dir) throws Exception {
    Path layout = busyboxLayout(dir);
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), "FROM base\nRUN echo %s > /ran.txt\n".formatted(UUID.randomUUID()));
    Path out = dir.resolve("out");
    Path bakeFile = Files.writeString(dir.resolve("docker-bake.hcl"), """
        target "app" {
          context = "%s"
          contexts = { base = "oci-layout://%s" }
          output = ["type=local,dest=%s"]
        }
        """.formatted(ctx, layout, out));

    FarmUnderTest.Result result = FarmUnderTest.stagefarm("bake", "-f", bakeFile.toString(), "--coordinator",
        FarmUnderTest.farm().endpoint(), "--progress", "plain", "app");

    assertThat(result.exitCode()).as(result.stderr()).isZero();
    assertThat(out.resolve("bin/busybox")).isRegularFile();
    assertThat(out.resolve("ran.txt")).isRegularFile();
  }

  @Test
  void aTamperedOrEscapingLayoutIsRefusedBeforeTheBuild(@TempDir Path dir) throws Exception {
    Path layout = busyboxLayout(dir);
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), "FROM base\nRUN true\n");
    Path blobs = layout.resolve("blobs/sha256");
    Path layer = largestBlob(blobs);

    // same size, other content: the digest check catches it
    byte[] bytes = Files.readAllBytes(layer);
    bytes[bytes.length / 2] ^= 0x55;
    Files.write(layer, bytes);
    FarmUnderTest.Result tampered = FarmUnderTest.build("--build-context", "base=oci-layout://" + layout, ctx.toString());
    assertThat(tampered.exitCode()).as(tampered.stderr()).isEqualTo(ExitCodes.USAGE);
    assertThat(tampered.stderr()).contains("does not have that digest").doesNotContain("Exception");

    // a blob that is a symlink to a file of the client's is not followed, so never uploaded
    Files.delete(layer);
    Files.createSymbolicLink(layer, Path.of("/etc/hostname"));
    FarmUnderTest.Result link = FarmUnderTest.build("--build-context", "base=oci-layout://" + layout, ctx.toString());
    assertThat(link.exitCode()).as(link.stderr()).isEqualTo(ExitCodes.USAGE);
    assertThat(link.stderr()).contains("is missing or not a regular file");

    // not a layout, and a digest the layout does not hold
    FarmUnderTest.Result notLayout = FarmUnderTest.build("--build-context", "base=oci-layout://" + ctx, ctx.toString());
    assertThat(notLayout.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(notLayout.stderr()).contains("is not an OCI layout");
    FarmUnderTest.Result unknown = FarmUnderTest.build("--build-context",
        "base=oci-layout://" + layout + "@sha256:" + "0".repeat(64), ctx.toString());
    assertThat(unknown.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(unknown.stderr()).contains("has no blob sha256:" + "0".repeat(64));
  }

  /** A local git repository as the context: the ref's tree (at depth 1, without .git), its subdirectory, never a remote. */
  @Test
  void aLocalGitRepositoryIsCheckedOutAndSentAsTheContext(@TempDir Path dir) throws Exception {
    Path repo = Files.createDirectories(dir.resolve("repo.git"));
    git(repo, "init", "--quiet", "-b", "main");
    Files.writeString(repo.resolve("Dockerfile"), "FROM " + FarmUnderTest.busybox() + "\nCOPY . /ctx/\n");
    Files.writeString(repo.resolve("version.txt"), "one");
    Files.createSymbolicLink(repo.resolve("escape"), Path.of("/etc"));
    git(repo, "add", "-A");
    git(repo, "commit", "--quiet", "-m", "one");
    git(repo, "tag", "v1");
    Files.createDirectories(repo.resolve("app"));
    Files.writeString(repo.resolve("app/Dockerfile"), "FROM " + FarmUnderTest.busybox() + "\nCOPY . /app/\n");
    Files.writeString(repo.resolve("app/version.txt"), "two");
    Files.writeString(repo.resolve("version.txt"), "two");
    git(repo, "add", "-A");
    git(repo, "commit", "--quiet", "-m", "two");
    Files.writeString(repo.resolve("version.txt"), "uncommitted"); // the worktree is not the context: the ref is

    Path head = dir.resolve("head");
    FarmUnderTest.Result atHead = FarmUnderTest.build("-o", "type=local,dest=" + head, repo.toString());
    assertThat(atHead.exitCode()).as(atHead.stderr()).isZero();
    assertThat(head.resolve("ctx/version.txt")).hasContent("two");
    assertThat(head.resolve("ctx/app/version.txt")).hasContent("two");
    assertThat(head.resolve("ctx/.git")).doesNotExist();
    assertThat(Files.readSymbolicLink(head.resolve("ctx/escape"))).isEqualTo(Path.of("/etc")); // a link, not /etc

    Path tagged = dir.resolve("tagged");
    FarmUnderTest.Result atTag = FarmUnderTest.build("-o", "type=local,dest=" + tagged, "file://" + repo + "#v1");
    assertThat(atTag.exitCode()).as(atTag.stderr()).isZero();
    assertThat(tagged.resolve("ctx/version.txt")).hasContent("one");
    assertThat(tagged.resolve("ctx/app")).doesNotExist();

    Path sub = dir.resolve("sub");
    FarmUnderTest.Result inSubdir = FarmUnderTest.build("-o", "type=local,dest=" + sub, repo + "#main:app");
    assertThat(inSubdir.exitCode()).as(inSubdir.stderr()).isZero();
    assertThat(sub.resolve("app/version.txt")).hasContent("two");
    assertThat(sub.resolve("app/Dockerfile")).isRegularFile();

    // -f names a file of the checkout, never one beside it
    Path named = dir.resolve("named");
    FarmUnderTest.Result withFile = FarmUnderTest.build("-f", "app/Dockerfile", "-o", "type=local,dest=" + named,
        repo.toString());
    assertThat(withFile.exitCode()).as(withFile.stderr()).isZero();
    assertThat(named.resolve("app/app/version.txt")).hasContent("two"); // app/Dockerfile's COPY . /app/ of the root
    assertThat(named.resolve("ctx")).doesNotExist(); // not the root Dockerfile
    FarmUnderTest.Result outside = FarmUnderTest.build("-f", "../../etc/hostname", repo.toString());
    assertThat(outside.exitCode()).isNotZero();
    assertThat(outside.stderr()).contains("build context git checkout refused: entry \"../../etc/hostname\" leaves")
        .doesNotContain("Exception");

    // a subdirectory that is a symlink out of the checkout, an option as a ref, remote URLs: refused
    FarmUnderTest.Result linked = FarmUnderTest.build(repo + "#main:escape");
    assertThat(linked.exitCode()).isNotZero();
    assertThat(linked.stderr()).contains("has no directory escape").doesNotContain("Exception");
    FarmUnderTest.Result option = FarmUnderTest.build(repo + "#--upload-pack=touch " + dir.resolve("pwned"));
    assertThat(option.exitCode()).isEqualTo(ExitCodes.USAGE);
    assertThat(option.stderr()).contains("is not a git branch, tag or commit");
    assertThat(dir.resolve("pwned")).doesNotExist();
    for (String remote : new String[] {"https://github.com/example/app.git", "git@github.com:example/app.git",
        "ssh://git@example.com/app.git"}) {
      FarmUnderTest.Result refused = FarmUnderTest.build(remote);
      assertThat(refused.exitCode()).as(remote).isEqualTo(ExitCodes.USAGE);
      assertThat(refused.stderr()).contains("stagefarm fetches no context from the network");
    }
  }

  private static void git(Path repo, String... args) throws Exception {
    String[] command = new String[args.length + 7];
    System.arraycopy(new String[] {"git", "-C", repo.toString(), "-c", "user.name=t", "-c", "user.email=t@example.com"},
        0, command, 0, 7);
    System.arraycopy(args, 0, command, 7, args.length);
    run(command);
  }

  private static String manifestDigest(Path layout) throws Exception {
    Matcher m = Pattern.compile("\"digest\"\\s*:\\s*\"(sha256:[0-9a-f]{64})\"")
        .matcher(Files.readString(layout.resolve("index.json")));
    assertThat(m.find()).isTrue();
    return m.group(1);
  }

  private static Path largestBlob(Path blobs) throws Exception {
    try (var files = Files.list(blobs)) {
      return files.max(java.util.Comparator.comparingLong(p -> p.toFile().length())).orElseThrow();
    }
  }

  static String run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
    return out;
  }
}
