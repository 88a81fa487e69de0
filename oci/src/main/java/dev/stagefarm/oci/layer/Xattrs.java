package dev.stagefarm.oci.layer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Extended attributes in all namespaces. Java's {@code UserDefinedFileAttributeView} only reaches {@code user.*};
 * overlayfs keeps its state in {@code trusted.overlay.*} and file capabilities live in {@code security.capability},
 * and the FFM API is not final in Java 21 (our release target). So we read a whole tree with one {@code getfattr -R}
 * process and write many attributes with one {@code setfattr --restore}: two processes per layer, not one per file.
 */
public final class Xattrs {

    /** Keeps overlayfs' own state out of layers and keeps what the image needs. */
    public static boolean belongsInLayer(String name) {
        if (name.startsWith("trusted.overlay.")) {
            return false;
        }
        return name.startsWith("user.") || name.startsWith("trusted.") || name.equals("security.capability");
    }

    public static final String OVERLAY_OPAQUE = "trusted.overlay.opaque";

    private Xattrs() {
    }

    /** Every xattr of every file under {@code root} (symlinks themselves, not their targets), keyed by path. */
    public static Map<Path, SortedMap<String, byte[]>> readTree(Path root) throws IOException {
        byte[] dump = HostCommand.run(List.of("getfattr", "--absolute-names", "-R", "-P", "-h", "-d", "-m", "-",
                "-e", "hex", root.toAbsolutePath().toString()), null);
        Map<Path, SortedMap<String, byte[]>> result = new HashMap<>();
        Path current = null;
        for (String line : new String(dump, StandardCharsets.ISO_8859_1).split("\n")) {
            if (line.startsWith("# file: ")) {
                current = Path.of(unescape(line.substring("# file: ".length())));
            } else if (!line.isEmpty() && current != null) {
                int eq = line.indexOf('=');
                if (eq < 0) {
                    continue;
                }
                String name = line.substring(0, eq);
                String value = line.substring(eq + 1);
                byte[] bytes = value.startsWith("0x") ? HexFormat.of().parseHex(value.substring(2)) : new byte[0];
                result.computeIfAbsent(current, k -> new TreeMap<>()).put(name, bytes);
            }
        }
        return result;
    }

    /** One attribute to set on one path (the path itself, never a symlink's target). */
    public record Assignment(Path path, String name, byte[] value) {
    }

    /** Sets all the given attributes with a single {@code setfattr} process. */
    public static void apply(List<Assignment> assignments) throws IOException {
        if (assignments.isEmpty()) {
            return;
        }
        Map<Path, List<Assignment>> byPath = new TreeMap<>();
        for (Assignment a : assignments) {
            byPath.computeIfAbsent(a.path().toAbsolutePath(), k -> new ArrayList<>()).add(a);
        }
        ByteArrayOutputStream dump = new ByteArrayOutputStream();
        for (Map.Entry<Path, List<Assignment>> e : byPath.entrySet()) {
            dump.writeBytes(("# file: " + escape(e.getKey().toString()) + "\n").getBytes(StandardCharsets.UTF_8));
            for (Assignment a : e.getValue()) {
                dump.writeBytes((a.name() + "=0x" + HexFormat.of().formatHex(a.value()) + "\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
            dump.write('\n');
        }
        Path file = Files.createTempFile("stagefarm-xattrs", ".dump");
        try {
            Files.write(file, dump.toByteArray());
            HostCommand.run(List.of("setfattr", "-h", "--restore=" + file), null);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** getfattr prints bytes outside printable ASCII, and backslashes, as {@code \ooo} octal escapes. */
    static String unescape(String s) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && isOctal(s, i + 1)) {
                bytes.write(Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else if (c == '\\' && i + 1 < s.length() && s.charAt(i + 1) == '\\') {
                bytes.write('\\');
                i++;
            } else {
                bytes.write(c & 0xff); // the dump was decoded as ISO-8859-1: one char per byte
            }
        }
        return new String(bytes.toByteArray(), StandardCharsets.UTF_8);
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 3; i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '7') {
                return false;
            }
        }
        return true;
    }

    /** The inverse of {@link #unescape} for setfattr's restore format. */
    static String escape(String path) {
        StringBuilder sb = new StringBuilder();
        for (byte b : path.getBytes(StandardCharsets.UTF_8)) {
            int u = b & 0xff;
            if (u == '\\') {
                sb.append("\\\\");
            } else if (u <= ' ' || u >= 0x7f || u == '=') {
                sb.append('\\').append(String.format("%03o", u));
            } else {
                sb.append((char) u);
            }
        }
        return sb.toString();
    }

    static SortedMap<String, byte[]> none() {
        return Collections.emptySortedMap();
    }
}
