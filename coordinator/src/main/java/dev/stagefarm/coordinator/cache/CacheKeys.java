package dev.stagefarm.coordinator.cache;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.proto.v1.ContextEntry;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Instruction cache keys (DESIGN.md §7). A key is the sha256 (64 hex characters, stored under
 * {@code cache/<key>}) of a canonical text naming everything the instruction's result depends
 * on: the parent key, the instruction after variable expansion, the build args it uses, and for
 * COPY/ADD the contents and metadata of the selected context files (mtimes excluded, as in
 * Docker: touching a file does not invalidate the cache) or the source stage's final key; for a
 * RUN, what its bind mounts (and cache mounts seeded {@code from=}) make readable. An
 * instruction whose input we cannot see (ADD of a URL without {@code --checksum}) carries the
 * build id, so its key never matches another build's.
 */
public final class CacheKeys {
  /** Bump when the canonical text changes, so old records are not trusted. */
  static final String VERSION = "stagefarm-cache-v1";

  private CacheKeys() {}

  /**
   * The root of a chain: the pinned base image's manifest digest, or scratch, on a platform.
   *
   * @param baseManifest empty for {@code FROM scratch}
   */
  public static String root(Optional<String> baseManifest, String platform) {
    return hash(VERSION + "\nroot " + baseManifest.orElse("scratch") + "\nplatform " + platform + "\n");
  }

  /** The key of one instruction. */
  public static String next(String parentKey, KeyedInstruction instruction) {
    StringBuilder text = new StringBuilder(VERSION).append('\n');
    text.append("parent ").append(parentKey).append('\n');
    text.append("instruction ").append(escape(instruction.expanded())).append('\n');
    new TreeMap<>(instruction.usedArgs())
        .forEach((k, v) -> text.append("arg ").append(escape(k)).append('=').append(escape(v)).append('\n'));
    instruction
        .fromStageKey()
        .ifPresent(key -> text.append("from ").append(key).append('\n'));
    appendFiles(text, "file ", instruction.contextFiles());
    for (MountSource mount : instruction.mounts()) {
      text.append("mount ").append(escape(mount.target())).append(' ').append(mount.origin()).append('\n');
      appendFiles(text, "mount-file ", mount.files());
    }
    instruction.onlyInBuild().ifPresent(build -> text.append("only-in-build ").append(escape(build)).append('\n'));
    return hash(text.toString());
  }

  private static void appendFiles(StringBuilder text, String prefix, List<ContextEntry> files) {
    for (ContextEntry entry : files) {
      text.append(prefix)
          .append(escape(entry.getPath()))
          .append(' ')
          .append(entry.getType().name())
          .append(' ')
          .append(Integer.toOctalString(entry.getMode()))
          .append(' ')
          .append(entry.getDigest())
          .append(' ')
          .append(escape(entry.getLinkTarget()))
          .append('\n');
    }
  }

  /** The keys of a stage's instructions in order, starting from {@code root}. */
  public static List<String> chain(String root, List<KeyedInstruction> instructions) {
    String parent = root;
    List<String> keys = new java.util.ArrayList<>(instructions.size());
    for (KeyedInstruction instruction : instructions) {
      parent = next(parent, instruction);
      keys.add(parent);
    }
    return keys;
  }

  private static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\n", "\\n");
  }

  private static String hash(String text) {
    return Digest.of(text).hex();
  }

  /**
   * An instruction reduced to what its cache key depends on.
   *
   * @param expanded the instruction text after variable expansion (flags included)
   * @param usedArgs the build args (ARG values in scope) the instruction references
   * @param contextFiles for COPY/ADD from the context: the selected entries, sorted by path
   * @param fromStageKey for COPY --from=stage: the source stage's final key; for an image: its
   *     root key
   * @param mounts for RUN: what its bind mounts and seeded cache mounts read, in mount order
   * @param onlyInBuild when present (a build id), the key is unique to that build: the
   *     instruction reads something the coordinator cannot fingerprint
   */
  public record KeyedInstruction(
      String expanded,
      Map<String, String> usedArgs,
      List<ContextEntry> contextFiles,
      Optional<String> fromStageKey,
      List<MountSource> mounts,
      Optional<String> onlyInBuild) {
    public KeyedInstruction {
      usedArgs = Map.copyOf(usedArgs);
      contextFiles = List.copyOf(contextFiles);
      mounts = List.copyOf(mounts);
    }

    public KeyedInstruction(
        String expanded, Map<String, String> usedArgs, List<ContextEntry> contextFiles, Optional<String> fromStageKey) {
      this(expanded, usedArgs, contextFiles, fromStageKey, List.of(), Optional.empty());
    }

    public static KeyedInstruction of(String expanded) {
      return new KeyedInstruction(expanded, Map.of(), List.of(), Optional.empty());
    }
  }

  /**
   * What one RUN mount makes readable.
   *
   * @param target the mount point
   * @param origin {@code context}, or the key of the stage or image named by {@code from=}
   * @param files for a context bind mount: the context entries under its {@code source}
   */
  public record MountSource(String target, String origin, List<ContextEntry> files) {
    public MountSource {
      files = List.copyOf(files);
    }
  }
}
