package dev.stagefarm.program;

/** One source of a COPY/ADD. */
public sealed interface CopySource {

  /** A match in the build context, selected by the coordinator. */
  record FromContext(ContextSelection selection) implements CopySource {}

  /** A path (wildcards allowed, a {@code /./} pivot with --parents) in another stage or image. */
  record FromInput(InputPath path) implements CopySource {}

  /** A heredoc file: {@code name} under the destination. */
  record Inline(String name, byte[] data) implements CopySource {
    public Inline {
      data = data.clone();
    }

    @Override
    public byte[] data() {
      return data.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Inline other && name.equals(other.name) && java.util.Arrays.equals(data, other.data);
    }

    @Override
    public int hashCode() {
      return name.hashCode() * 31 + java.util.Arrays.hashCode(data);
    }

    @Override
    public String toString() {
      return "Inline[" + name + ", " + data.length + " bytes]";
    }
  }

  /**
   * ADD of a URL.
   *
   * @param checksum {@code sha256:<hex>} from --checksum, or {@code ""}
   * @param fileName its name under a directory destination
   * @param unverifiedInBuild without a checksum: the build id, so the op's key is never shared
   *     with another build; {@code ""} with a checksum
   */
  record Remote(String url, String checksum, String fileName, String unverifiedInBuild) implements CopySource {}
}
