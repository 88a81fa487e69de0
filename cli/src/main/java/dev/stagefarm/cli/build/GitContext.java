package dev.stagefarm.cli.build;

import dev.stagefarm.cli.ExitCodes;
import dev.stagefarm.cli.UserError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * A git build context on this machine, as buildx writes one: {@code /path/repo.git[#REF[:SUBDIR]]} or
 * {@code file:///path/repo[#REF[:SUBDIR]]}. The repository is untrusted: it is fetched at depth 1
 * through git's file transport (no hard links into it, no shared object store) into a private temporary
 * directory, with no hooks, no templates, no submodules and no system or user git configuration, and
 * the checkout's {@code .git} is removed before the directory is sent like any other context.
 * Remote repositories ({@code git@…}, {@code https://…}, {@code ssh://}, {@code git://}) are refused:
 * the client fetches nothing from the network.
 *
 * @param repository the repository's absolute path
 * @param ref what to check out: a branch, tag or commit; "HEAD" when the context names none
 * @param subdir the context inside the checkout; empty for its root
 */
public record GitContext(Path repository, String ref, String subdir) {
  private static final Pattern REF = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,254}");
  private static final long GIT_TIMEOUT_SECONDS = 600;
  private static final int MAX_GIT_OUTPUT = 64 << 10;

  /** Whether CONTEXT names a git repository or URL rather than a directory or an archive. */
  public static boolean isGit(String context) {
    return context.contains("://") || context.startsWith("git@") || pathPart(context).endsWith(".git");
  }

  /**
   * The local repository CONTEXT names.
   *
   * @throws UserError (exit 2) for a remote URL or a malformed ref or subdirectory, naming why
   */
  public static GitContext parse(String context) {
    if (context.startsWith("git@") || (context.contains("://") && !context.startsWith("file://"))) {
      throw ExitCodes.usage("the build context " + context + " is a remote git repository or URL: stagefarm fetches"
          + " no context from the network; clone it and give the directory, or a local repository as"
          + " file:///PATH[#REF[:SUBDIR]] or PATH.git[#REF[:SUBDIR]]");
    }
    String path = pathPart(context);
    if (path.startsWith("file://")) {
      path = path.substring("file://".length());
      if (!path.startsWith("/")) {
        throw ExitCodes.usage("the build context " + context + ": a file:// URL needs an absolute path (file:///PATH)");
      }
    }
    String fragment = context.length() > pathPart(context).length() ? context.substring(pathPart(context).length() + 1)
        : "";
    int colon = fragment.indexOf(':');
    String ref = colon >= 0 ? fragment.substring(0, colon) : fragment;
    String subdir = colon >= 0 ? fragment.substring(colon + 1) : "";
    if (ref.isEmpty()) {
      ref = "HEAD";
    }
    if (!REF.matcher(ref).matches() || ref.contains("..")) {
      throw ExitCodes.usage("the build context " + context + ": \"" + ref + "\" is not a git branch, tag or commit");
    }
    subdir = subdir.replaceAll("^/+|/+$", "");
    for (String part : subdir.split("/")) {
      if (part.equals("..") || part.equals(".")) {
        throw ExitCodes.usage("the build context " + context + ": the subdirectory \"" + subdir + "\" may not contain"
            + " . or ..");
      }
    }
    Path repository = Path.of(path).toAbsolutePath().normalize();
    if (!Files.isDirectory(repository)) {
      throw ExitCodes.usage("the build context " + context + ": " + repository + " is not a directory");
    }
    return new GitContext(repository, ref, subdir);
  }

  private static String pathPart(String context) {
    int hash = context.indexOf('#');
    return hash >= 0 ? context.substring(0, hash) : context;
  }

  /**
   * Checks the ref out into {@code into} (a new private directory) and returns the context directory in it.
   *
   * @throws UserError when git fails (its message, bounded) or the subdirectory is not a directory of the checkout
   */
  public Path checkout(Path into) throws IOException {
    String url = "file://" + repository;
    git(into, "init", "--quiet", "--template=");
    git(into, "fetch", "--quiet", "--depth", "1", "--no-tags", "--no-recurse-submodules", "--", url, ref);
    git(into, "checkout", "--quiet", "--no-recurse-submodules", "FETCH_HEAD");
    TarContext.deleteTree(into.resolve(".git")); // BuildKit leaves the git directory out of the context
    if (subdir.isEmpty()) {
      return into;
    }
    Path dir = into.resolve(subdir).normalize();
    boolean inside;
    try {
      inside = dir.toRealPath().startsWith(into.toRealPath()); // a symlinked subdir pointing out is refused
    } catch (IOException e) {
      inside = false;
    }
    if (!inside || !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      throw new UserError("the git context " + repository + "#" + ref + ":" + subdir + " has no directory " + subdir);
    }
    return dir;
  }

  /** Runs git in {@code dir} with no configuration but ours: no hooks, no fsmonitor, only the file transport. */
  private void git(Path dir, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of("git", "-c", "protocol.allow=never", "-c", "protocol.file.allow=always",
        "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "-c", "submodule.recurse=false",
        "-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
    Map<String, String> env = builder.environment();
    env.keySet().removeIf(name -> name.startsWith("GIT_"));
    env.put("GIT_CONFIG_NOSYSTEM", "1");
    env.put("GIT_CONFIG_GLOBAL", "/dev/null");
    env.put("GIT_TERMINAL_PROMPT", "0");
    env.put("GIT_PROTOCOL_FROM_USER", "0");
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new UserError("a git build context needs the git program: " + e.getMessage());
    }
    process.getOutputStream().close();
    byte[] output = process.getInputStream().readNBytes(MAX_GIT_OUTPUT);
    process.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
    try {
      if (!process.waitFor(GIT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new UserError("git " + args[0] + " of " + repository + " did not finish in " + GIT_TIMEOUT_SECONDS + "s");
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new UserError("interrupted");
    }
    if (process.exitValue() != 0) {
      throw new UserError("the git context " + repository + "#" + ref + ": git " + args[0] + " failed: "
          + new String(output, StandardCharsets.UTF_8).strip());
    }
  }
}
