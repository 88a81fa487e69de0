package dev.stagefarm.cli.build;

import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.MediaTypes;
import dev.stagefarm.oci.image.ImageIndex;
import dev.stagefarm.oci.image.ImageJson;
import dev.stagefarm.oci.image.ImageManifest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code --build-context NAME=oci-layout://PATH[@sha256:…]}: an image in a local OCI layout
 * directory, read as untrusted input. Every blob reachable from the chosen root (an image manifest
 * or an index of them) must be a regular file under {@code PATH/blobs/sha256/}, of the size its
 * descriptor says and with the content its digest says; JSON documents and the blob count are bounded.
 * The farm gets the blobs through the same upload as a context and picks the platform's manifest.
 *
 * @param root {@code sha256:<hex>} of the manifest or index the build context names
 * @param blobs every reachable blob: digest → its file, checked
 */
public record OciLayoutContext(Digest root, Map<String, Path> blobs) {
  public static final String SCHEME = "oci-layout://";
  static final int MAX_JSON_BYTES = 4 << 20;
  static final int MAX_BLOBS = 10_000;

  /** Reads {@code PATH[@sha256:…]} (the part after {@code oci-layout://}), relative to {@code base}. */
  public static OciLayoutContext read(String spec, Path base) throws IOException {
    String pathText = spec;
    Digest wanted = null;
    int at = spec.lastIndexOf("@sha256:");
    if (at >= 0) {
      pathText = spec.substring(0, at);
      try {
        wanted = Digest.parse(spec.substring(at + 1));
      } catch (IllegalArgumentException e) {
        throw new IOException("\"" + spec.substring(at + 1) + "\" is not a sha256 digest");
      }
    }
    if (pathText.isEmpty()) {
      throw new IOException("names no directory");
    }
    Path dir = base.resolve(pathText).toAbsolutePath().normalize();
    if (!Files.isRegularFile(dir.resolve("oci-layout"), LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(dir + " is not an OCI layout (no oci-layout file)");
    }
    Path blobDir = dir.resolve("blobs").resolve(Digest.SHA256);
    if (!Files.isDirectory(blobDir, LinkOption.NOFOLLOW_LINKS)
        || !Files.isDirectory(dir.resolve("blobs"), LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(dir + " has no blobs/sha256 directory (or it is a symlink)");
    }
    ImageIndex index = ImageJson.readIndex(readBounded(dir.resolve("index.json"), "index.json"));
    Descriptor root = rootOf(index, wanted, dir);
    return new OciLayoutContext(root.digest(), new Reader(blobDir).collect(root));
  }

  /** The named manifest (listed in index.json or not: buildx accepts any blob), else index.json's only entry. */
  private static Descriptor rootOf(ImageIndex index, Digest wanted, Path dir) throws IOException {
    if (wanted != null) {
      for (Descriptor entry : index.manifests()) {
        if (entry.digest().equals(wanted)) {
          return entry;
        }
      }
      Path file = dir.resolve("blobs").resolve(Digest.SHA256).resolve(wanted.hex());
      if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException(dir + " has no blob " + wanted);
      }
      byte[] json = readBounded(file, wanted.toString());
      return new Descriptor(ImageJson.sniffMediaType(json), wanted, json.length);
    }
    if (index.manifests().size() != 1) {
      throw new IOException(dir + "/index.json lists " + index.manifests().size() + " entries: name one with"
          + " oci-layout://PATH@sha256:…");
    }
    return index.manifests().getFirst();
  }

  private static byte[] readBounded(Path file, String what) throws IOException {
    if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(what + " is missing or not a regular file");
    }
    try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
      byte[] bytes = in.readNBytes(MAX_JSON_BYTES + 1);
      if (bytes.length > MAX_JSON_BYTES) {
        throw new IOException(what + " has more than " + MAX_JSON_BYTES + " bytes");
      }
      return bytes;
    }
  }

  /** Walks index → manifests → config and layers, checking each blob once. */
  private static final class Reader {
    private final Path blobDir;
    private final Map<String, Path> blobs = new LinkedHashMap<>();

    Reader(Path blobDir) {
      this.blobDir = blobDir;
    }

    Map<String, Path> collect(Descriptor root) throws IOException {
      Deque<Descriptor> pending = new ArrayDeque<>();
      pending.add(root);
      while (!pending.isEmpty()) {
        Descriptor next = pending.poll();
        if (blobs.containsKey(next.digest().toString())) {
          continue;
        }
        if (blobs.size() >= MAX_BLOBS) {
          throw new IOException("the image has more than " + MAX_BLOBS + " blobs");
        }
        Path file = checked(next);
        blobs.put(next.digest().toString(), file);
        if (MediaTypes.isIndex(next.mediaType())) {
          ImageIndex index = ImageJson.readIndex(json(file, next));
          pending.addAll(index.manifests());
        } else if (MediaTypes.isManifest(next.mediaType())) {
          ImageManifest manifest = ImageJson.readManifest(json(file, next));
          pending.add(manifest.config());
          pending.addAll(manifest.layers());
        }
      }
      return Map.copyOf(blobs);
    }

    /** The blob's file: a regular file (no symlink) of the descriptor's size and digest. */
    private Path checked(Descriptor descriptor) throws IOException {
      Path file = blobDir.resolve(descriptor.digest().hex()); // hex only: cannot leave blobDir
      if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
        throw new IOException("blob " + descriptor.digest() + " is missing or not a regular file");
      }
      long size = Files.size(file);
      if (size != descriptor.size()) {
        throw new IOException("blob " + descriptor.digest() + " has " + size + " bytes, its descriptor says "
            + descriptor.size());
      }
      try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
        var sha = Digest.newSha256();
        byte[] buffer = new byte[1 << 16];
        for (int n; (n = in.read(buffer)) > 0; ) {
          sha.update(buffer, 0, n);
        }
        if (!Digest.fromBytes(sha.digest()).equals(descriptor.digest())) {
          throw new IOException("blob " + descriptor.digest() + " does not have that digest (corrupt or altered)");
        }
      }
      return file;
    }

    private static byte[] json(Path file, Descriptor descriptor) throws IOException {
      if (descriptor.size() > MAX_JSON_BYTES) {
        throw new IOException(descriptor.mediaType() + " " + descriptor.digest() + " has more than " + MAX_JSON_BYTES
            + " bytes");
      }
      return Files.readAllBytes(file);
    }
  }
}
