package dev.stagefarm.oci.layer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Test helpers that make and describe file trees, with the host tools a root test may use (mknod, setfattr). */
final class Trees {

    private Trees() {
    }

    static Path file(Path root, String rel, String content) throws IOException {
        Path p = root.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content, StandardCharsets.UTF_8);
        return p;
    }

    static void sh(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
    }

    static String shOut(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }

    static void setMtimeRecursively(Path root, FileTime time) throws IOException, InterruptedException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    Files.setLastModifiedTime(p, time);
                } else if (!Files.isSymbolicLink(p)) {
                    // fifos and devices: Java's setTimes opens them (a fifo blocks), touch works by path
                    sh("touch", "-h", "-d", "@" + time.toInstant().getEpochSecond(), p.toString());
                }
            }
        }
    }

    /**
     * A comparable description of a tree: path → type, mode, owner, size, mtime, link target, content hash and, for
     * device nodes, the numbers. Used to check that extraction gives back what was written.
     */
    static Map<String, String> describe(Path root, boolean withMtime) throws IOException {
        Map<String, String> d = new TreeMap<>();
        List<Path> paths = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.filter(p -> !p.equals(root)).forEach(paths::add);
        }
        for (Path p : paths) {
            Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,size,rdev,lastModifiedTime",
                    LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) a.get("mode");
            StringBuilder sb = new StringBuilder(Integer.toOctalString(mode)).append(' ')
                    .append(a.get("uid")).append(':').append(a.get("gid"));
            if (Files.isSymbolicLink(p)) {
                sb.append(" -> ").append(Files.readSymbolicLink(p));
            } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                sb.append(" size=").append(a.get("size"))
                        .append(" sha=").append(dev.stagefarm.oci.Digest.of(Files.readAllBytes(p)).shortHex());
            } else if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                sb.append(" rdev=").append(a.get("rdev"));
            }
            if (withMtime && !Files.isSymbolicLink(p)) {
                sb.append(" mtime=").append(((FileTime) a.get("lastModifiedTime")).toMillis() / 1000);
            }
            d.put(root.relativize(p).toString(), sb.toString());
        }
        return d;
    }
}
