package dev.stagefarm.coordinator.plan;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import dev.stagefarm.coordinator.port.ContentStore;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.LimitedInputStream;
import dev.stagefarm.oci.store.Namespace;
import dev.stagefarm.proto.v1.ContextEntry;
import dev.stagefarm.proto.v1.ContextManifest;
import java.io.IOException;
import java.io.InputStream;
import java.util.OptionalLong;

/**
 * Reads a build's context manifest from the content store within limits: a manifest larger than
 * the byte limit is refused from its stored size before a byte is read, and entries are counted
 * while they are parsed, so one with too many is refused at the first entry over the limit.
 */
public final class ContextManifests {
  /** Field number 1 ({@code schema_version}), varint: (1 << 3) | 0. */
  private static final int SCHEMA_VERSION_TAG = (1 << 3) | WireFormat.WIRETYPE_VARINT;
  /** Field number 2 ({@code entries}), length-delimited: (2 << 3) | 2. */
  private static final int ENTRY_TAG = (2 << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED;

  /**
   * @param maxEntries the most entries a build context may have ({@code max-context-entries})
   * @param maxBytes the largest context manifest read ({@code max-context-manifest-size})
   */
  public record Limits(int maxEntries, long maxBytes) {
    /** A million entries, 128 MiB (about 130 bytes an entry). */
    public static final Limits DEFAULT = new Limits(1_000_000, 128L << 20);

    public Limits {
      if (maxEntries < 1 || maxBytes < 1) {
        throw new IllegalArgumentException("context manifest limits must be positive");
      }
    }
  }

  /** A manifest over one of the {@link Limits}; the message names the limit and its value. */
  public static final class TooLarge extends IllegalArgumentException {
    TooLarge(String message) {
      super(message);
    }
  }

  /** A blob that is not a ContextManifest. */
  public static final class Unreadable extends IllegalArgumentException {
    Unreadable(Digest digest) {
      super("the context manifest " + digest + " is not a ContextManifest");
    }
  }

  private ContextManifests() {}

  /**
   * @throws TooLarge naming the limit
   * @throws Unreadable when the blob does not parse
   * @throws IOException when the store fails or has no such blob, or the content does not match
   *     its digest
   */
  public static ContextManifest read(ContentStore store, Digest digest, Limits limits) throws IOException {
    OptionalLong size = store.size(Namespace.CONTEXT, digest);
    if (size.isPresent() && size.getAsLong() > limits.maxBytes()) {
      throw tooManyBytes(size.getAsLong(), limits);
    }
    // refused past the byte limit, unchecked: the protobuf parser would report an IOException as a malformed entry
    try (InputStream in = LimitedInputStream.failingPast(store.open(Namespace.CONTEXT, digest), limits.maxBytes(),
        () -> tooManyBytes(-1, limits))) {
      CodedInputStream coded = CodedInputStream.newInstance(in);
      ContextManifest.Builder manifest = ContextManifest.newBuilder();
      for (int tag = coded.readTag(); tag != 0; tag = coded.readTag()) {
        if (tag == SCHEMA_VERSION_TAG) {
          manifest.setSchemaVersion(coded.readUInt32());
        } else if (tag == ENTRY_TAG) {
          if (manifest.getEntriesCount() >= limits.maxEntries()) {
            throw new TooLarge("the build context has more than " + limits.maxEntries()
                + " entries, over the limit max-context-entries = " + limits.maxEntries());
          }
          manifest.addEntries(coded.readMessage(ContextEntry.parser(), ExtensionRegistryLite.getEmptyRegistry()));
        } else if (!coded.skipField(tag)) {
          break; // an end-group tag at the top level: not a manifest, the parser below says so
        }
      }
      in.transferTo(java.io.OutputStream.nullOutputStream()); // to the end, so the digest is verified
      return manifest.build();
    } catch (InvalidProtocolBufferException e) {
      throw new Unreadable(digest);
    }
  }

  private static TooLarge tooManyBytes(long bytes, Limits limits) {
    return new TooLarge("the context manifest is " + (bytes < 0 ? "larger than " + limits.maxBytes() : bytes)
        + " bytes, over the limit max-context-manifest-size = " + limits.maxBytes() + " bytes");
  }
}
