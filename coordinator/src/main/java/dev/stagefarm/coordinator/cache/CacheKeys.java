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
 * Docker: touching a file does not invalidate the cache) or the source stage's final key.
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
    for (ContextEntry entry : instruction.contextFiles()) {
      text.append("file ")
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
    return hash(text.toString());
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
   */
  public record KeyedInstruction(
      String expanded,
      Map<String, String> usedArgs,
      List<ContextEntry> contextFiles,
      Optional<String> fromStageKey) {
    public KeyedInstruction {
      usedArgs = Map.copyOf(usedArgs);
      contextFiles = List.copyOf(contextFiles);
    }

    public static KeyedInstruction of(String expanded) {
      return new KeyedInstruction(expanded, Map.of(), List.of(), Optional.empty());
    }
  }
}
