package dev.stagefarm.program;

import com.google.protobuf.CodedOutputStream;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.proto.v1.ContextSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Cache keys of programs and their ops (DESIGN.md §7; program.proto has the derivation). An op's
 * key is SHA-256 over its parent key, the op's canonical bytes and the keys of the inputs it
 * reads, and nothing else: no language runtime's {@code toString}, no field names.
 */
public final class CacheKeys {
  /**
   * Part of every key. Bump it (and the golden tests' values, deliberately) whenever what goes
   * into a key changes meaning, so records written under the old derivation are never served.
   */
  public static final String KEY_VERSION = "v2";

  private CacheKeys() {}

  /** The root of a stage on a pinned image. */
  public static CacheKey imageRoot(String manifestDigest, Platform platform, Optional<Instant> sourceDateEpoch) {
    return root("image " + Digest.parse(manifestDigest), platform, sourceDateEpoch);
  }

  /** The root of a {@code FROM scratch} stage. */
  public static CacheKey scratchRoot(Platform platform, Optional<Instant> sourceDateEpoch) {
    return root("scratch", platform, sourceDateEpoch);
  }

  private static CacheKey root(String base, Platform platform, Optional<Instant> sourceDateEpoch) {
    String text = "stagefarm-root/" + KEY_VERSION + "\n"
        + base + "\n"
        + "platform " + platform + "\n"
        + "epoch " + sourceDateEpoch.map(e -> Long.toString(e.getEpochSecond())).orElse("none") + "\n";
    return new CacheKey(Digest.of(text).hex());
  }

  /**
   * The key of {@code op} after {@code parent}.
   *
   * @param inputs the program's inputs; the op's own (those it names) go into the key
   * @throws IllegalArgumentException when the op reads an input that is not among {@code inputs}
   */
  public static CacheKey next(CacheKey parent, Op op, List<ProgramInput> inputs) {
    return next(parent, op, byId(inputs));
  }

  private static Map<String, ProgramInput> byId(List<ProgramInput> inputs) {
    return inputs.stream().collect(Collectors.toMap(ProgramInput::id, Function.identity()));
  }

  private static CacheKey next(CacheKey parent, Op op, Map<String, ProgramInput> byId) {
    StringBuilder text = new StringBuilder("stagefarm-op-key/").append(KEY_VERSION).append('\n');
    text.append(parent.hex()).append('\n');
    text.append(Digest.of(canonicalBytes(op)).hex()).append('\n');
    for (String id : new TreeMap<>(readInputs(op, byId)).keySet()) {
      text.append(id).append(' ').append(byId.get(id).key().hex()).append('\n');
    }
    return new CacheKey(Digest.of(text.toString()).hex());
  }

  /** The key after each op of the program, in order. */
  public static List<CacheKey> chain(StageProgram program) {
    List<CacheKey> keys = new ArrayList<>(program.ops().size());
    CacheKey parent = program.rootKey();
    Map<String, ProgramInput> byId = byId(program.inputs()); // once: a stage of 100 COPY --from has 100 inputs
    for (Op op : program.ops()) {
      parent = next(parent, op, byId);
      keys.add(parent);
    }
    return keys;
  }

  /**
   * The op's wire encoding without what does not change the recorded result (a layer): its source
   * (line and text, so moving an instruction keeps its cache), its history text (history follows
   * from the program, never from a record) and context file mtimes (as in Docker, touching a file
   * does not invalidate the cache). Deterministic protobuf: field numbers, never names.
   */
  static byte[] canonicalBytes(Op op) {
    var proto = ProgramCodec.toProto(op).toBuilder().clearSource().clearCreatedBy();
    if (proto.hasCopy()) {
      var copy = proto.getCopyBuilder();
      for (var source : copy.getSourcesBuilderList()) {
        if (source.hasContext()) {
          clearTimes(source.getContextBuilder());
        }
      }
    }
    if (proto.hasExec()) {
      for (var mount : proto.getExecBuilder().getMountsBuilderList()) {
        if (mount.hasBind() && mount.getBind().hasContext()) {
          clearTimes(mount.getBindBuilder().getContextBuilder());
        }
      }
    }
    var message = proto.build();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(message.getSerializedSize());
    try {
      CodedOutputStream out = CodedOutputStream.newInstance(bytes);
      out.useDeterministicSerialization();
      message.writeTo(out);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("encoding an op in memory failed", e);
    }
    return bytes.toByteArray();
  }

  private static void clearTimes(ContextSource.Builder context) {
    for (var entry : context.getEntriesBuilderList()) {
      entry.clearMtimeMs();
    }
  }

  /** The inputs the op names, by id. */
  private static Map<String, ProgramInput> readInputs(Op op, Map<String, ProgramInput> byId) {
    List<InputPath> paths = new ArrayList<>();
    op.action().ifPresent(action -> {
      switch (action) {
        case Action.Copy copy -> copy.sources().forEach(s -> {
          if (s instanceof CopySource.FromInput in) {
            paths.add(in.path());
          }
        });
        case Action.Exec exec -> exec.mounts().forEach(m -> {
          if (m instanceof Mount.Bind bind && bind.source() instanceof Mount.FromInput in) {
            paths.add(in.path());
          } else if (m instanceof Mount.Cache cache) {
            cache.seed().ifPresent(paths::add);
          }
        });
        case Action.Mkdir mkdir -> { }
      }
    });
    Map<String, ProgramInput> read = new TreeMap<>();
    for (InputPath path : paths) {
      ProgramInput input = byId.get(path.input());
      if (input == null) {
        throw new IllegalArgumentException("op at line " + op.source().line() + " reads input " + path.input()
            + ", which the program does not declare");
      }
      read.put(input.id(), input);
    }
    return read;
  }
}
