package dev.stagefarm.farmrun;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The local farm's run protocol (docs/cli.md, "The fast path"): a thin client hands one {@code
 * stagefarm} command line to the running local farm over a Unix-domain socket in its state
 * directory, and the farm runs it as the CLI would.
 *
 * <p>Every frame is a type byte, a big-endian 4-byte length and that many bytes. The client's first
 * frame is {@link #HELLO}; then it sends {@link #STDIN} (only as much as a {@link #STDIN_WANTED} asked
 * for; empty = end of input) and {@link #CANCEL}. The farm sends {@link #STDOUT}/{@link #STDERR}
 * chunks, {@link #STDIN_WANTED}, and ends with {@link #EXIT} or {@link #FALLBACK} (nothing ran: the
 * caller should start the JVM client instead). Every frame has a limit; the reader refuses one over
 * it before reading its body.
 */
public final class FarmRunProtocol {
  /** The file name of the socket in the farm's state directory. */
  public static final String SOCKET = "run.sock";
  /** The first bytes of a hello: a peer that is not a thin client is refused at once. */
  public static final int MAGIC = 0x53465255; // "SFRU"
  public static final int VERSION = 1;

  public static final byte HELLO = 1;
  public static final byte STDIN = 2;
  public static final byte CANCEL = 3;
  public static final byte STDOUT = 10;
  public static final byte STDERR = 11;
  public static final byte STDIN_WANTED = 12;
  public static final byte EXIT = 13;
  public static final byte FALLBACK = 14;

  /** Largest hello (argv, environment, working directory, token). */
  public static final int MAX_HELLO = 2 << 20;
  public static final int MAX_ARGS = 4096;
  public static final int MAX_ARG_BYTES = 128 << 10;
  public static final int MAX_ENV_ENTRIES = 4096;
  public static final int MAX_ENV_BYTES = 1 << 20;
  /** Largest stdout/stderr/stdin chunk. */
  public static final int MAX_CHUNK = 64 << 10;
  /** Largest other frame (exit code, fallback reason, stdin request). */
  public static final int MAX_SMALL = 4 << 10;

  /** The thin client's exit code for "start the JVM client instead": nothing ran, no output was written. */
  public static final int FALLBACK_EXIT = 121;

  /** Terminal flags in the hello. */
  public static final int TTY_STDIN = 1;
  public static final int TTY_STDOUT = 2;
  public static final int TTY_STDERR = 4;

  private FarmRunProtocol() {}

  /** A malformed or oversized frame: the connection is dropped with this message. */
  public static final class ProtocolException extends IOException {
    public ProtocolException(String message) {
      super(message);
    }
  }

  /** One frame as read. */
  public record Frame(byte type, byte[] body) {
    public int intBody() throws ProtocolException {
      if (body.length != 4) {
        throw new ProtocolException("frame " + type + " wants 4 bytes, has " + body.length);
      }
      return ((body[0] & 0xff) << 24) | ((body[1] & 0xff) << 16) | ((body[2] & 0xff) << 8) | (body[3] & 0xff);
    }

    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /**
   * What a client sends first.
   *
   * @param tty {@link #TTY_STDIN}, {@link #TTY_STDOUT}, {@link #TTY_STDERR} of the client's streams
   */
  public record Hello(int version, String token, String cwd, int tty, List<String> args, Map<String, String> env) {
    public Hello {
      args = List.copyOf(args);
      env = Map.copyOf(env);
    }

    public byte[] encode() throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      DataOutputStream out = new DataOutputStream(bytes);
      out.writeInt(MAGIC);
      out.writeInt(version);
      string(out, token);
      string(out, cwd);
      out.writeInt(tty);
      out.writeInt(args.size());
      for (String arg : args) {
        string(out, arg);
      }
      out.writeInt(env.size());
      for (var e : env.entrySet()) {
        string(out, e.getKey());
        string(out, e.getValue());
      }
      return bytes.toByteArray();
    }

    /** Decodes a hello; the version is read first, so that a newer client's hello can be answered with a fallback. */
    public static Hello decode(byte[] body) throws ProtocolException {
      try {
        DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(body));
        if (in.readInt() != MAGIC) {
          throw new ProtocolException("not a stagefarm run request (bad magic)");
        }
        int version = in.readInt();
        if (version != VERSION) {
          return new Hello(version, "", "", 0, List.of(), Map.of());
        }
        String token = string(in, 1024, "token");
        String cwd = string(in, 64 << 10, "working directory");
        int tty = in.readInt();
        int argc = count(in, MAX_ARGS, "arguments");
        List<String> args = new ArrayList<>();
        for (int i = 0; i < argc; i++) {
          args.add(string(in, MAX_ARG_BYTES, "argument"));
        }
        int envc = count(in, MAX_ENV_ENTRIES, "environment variables");
        Map<String, String> env = new LinkedHashMap<>();
        long envBytes = 0;
        for (int i = 0; i < envc; i++) {
          String key = string(in, MAX_ENV_BYTES, "environment variable name");
          String value = string(in, MAX_ENV_BYTES, "environment variable " + key);
          envBytes += key.length() + value.length();
          if (envBytes > MAX_ENV_BYTES) {
            throw new ProtocolException("the environment is over the limit of " + MAX_ENV_BYTES + " bytes");
          }
          env.put(key, value);
        }
        if (in.available() > 0) {
          throw new ProtocolException("the run request has " + in.available() + " bytes after its end");
        }
        return new Hello(version, token, cwd, tty, args, env);
      } catch (EOFException e) {
        throw new ProtocolException("the run request is truncated");
      } catch (ProtocolException e) {
        throw e;
      } catch (IOException e) {
        throw new ProtocolException("the run request is malformed: " + e.getMessage());
      }
    }
  }

  /** Writes one frame (callers serialize writers of one stream). */
  public static void write(OutputStream out, byte type, byte[] body, int offset, int length) throws IOException {
    byte[] head = {type, (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length};
    out.write(head);
    out.write(body, offset, length);
    out.flush();
  }

  public static void write(OutputStream out, byte type, byte[] body) throws IOException {
    write(out, type, body, 0, body.length);
  }

  public static void writeInt(OutputStream out, byte type, int value) throws IOException {
    write(out, type, new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value});
  }

  /** The next frame, or null at a clean end of stream (between frames). */
  public static Frame read(InputStream in) throws IOException {
    int type = in.read();
    if (type < 0) {
      return null;
    }
    byte[] head = in.readNBytes(4);
    if (head.length < 4) {
      throw new ProtocolException("truncated frame header");
    }
    int length = ((head[0] & 0xff) << 24) | ((head[1] & 0xff) << 16) | ((head[2] & 0xff) << 8) | (head[3] & 0xff);
    int limit = limit((byte) type);
    if (limit < 0) {
      throw new ProtocolException("unknown frame type " + type);
    }
    if (length < 0 || length > limit) {
      throw new ProtocolException("frame type " + type + " of " + Integer.toUnsignedString(length)
          + " bytes is over the limit of " + limit + " bytes");
    }
    byte[] body = in.readNBytes(length);
    if (body.length < length) {
      throw new ProtocolException("truncated frame: " + body.length + " of " + length + " bytes");
    }
    return new Frame((byte) type, body);
  }

  private static int limit(byte type) {
    return switch (type) {
      case HELLO -> MAX_HELLO;
      case STDIN, STDOUT, STDERR -> MAX_CHUNK;
      case CANCEL, STDIN_WANTED, EXIT, FALLBACK -> MAX_SMALL;
      default -> -1;
    };
  }

  private static void string(DataOutputStream out, String s) throws IOException {
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  private static String string(DataInputStream in, int max, String what) throws IOException {
    int length = in.readInt();
    if (length < 0 || length > max) {
      throw new ProtocolException("the " + what + " of " + Integer.toUnsignedString(length)
          + " bytes is over the limit of " + max + " bytes");
    }
    byte[] bytes = in.readNBytes(length);
    if (bytes.length < length) {
      throw new EOFException();
    }
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static int count(DataInputStream in, int max, String what) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > max) {
      throw new ProtocolException(Integer.toUnsignedString(n) + " " + what + " are over the limit of " + max);
    }
    return n;
  }
}
