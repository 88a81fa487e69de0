package dev.stagefarm.oci.layer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Creates device nodes and fifos. Java has no mknod, so one {@code sh} process runs {@code mknod} for a whole
 * batch (paths are passed as arguments, never spliced into the script).
 */
final class SpecialFiles {

    enum Kind { CHAR, BLOCK, FIFO }

    record Node(Path path, Kind kind, int major, int minor) {
    }

    private static final String SCRIPT =
            "while [ $# -gt 0 ]; do p=$1; t=$2; ma=$3; mi=$4; shift 4; "
                    + "if [ \"$t\" = p ]; then mknod \"$p\" p || exit 1; else mknod \"$p\" \"$t\" \"$ma\" \"$mi\" || exit 1; fi; "
                    + "done";

    private SpecialFiles() {
    }

    static void create(List<Node> nodes) throws IOException {
        if (nodes.isEmpty()) {
            return;
        }
        List<String> command = new ArrayList<>(List.of("sh", "-c", SCRIPT, "sh"));
        for (Node n : nodes) {
            command.add(n.path().toAbsolutePath().toString());
            command.add(switch (n.kind()) {
                case CHAR -> "c";
                case BLOCK -> "b";
                case FIFO -> "p";
            });
            command.add(Integer.toString(n.major()));
            command.add(Integer.toString(n.minor()));
        }
        HostCommand.run(command, null);
    }

    /** Owner, mode and mtime for a special file. */
    record Metadata(Path path, int uid, int gid, int mode, java.nio.file.attribute.FileTime mtime) {
    }

    private static final String METADATA_SCRIPT =
            "while [ $# -gt 0 ]; do p=$1; o=$2; m=$3; t=$4; shift 4; "
                    + "chown -h \"$o\" \"$p\" && chmod \"$m\" \"$p\" && touch -h -c -d \"@$t\" \"$p\" || exit 1; "
                    + "done";

    /**
     * Sets owner, mode and mtime of fifos and device nodes by path with one {@code sh} process: Java's
     * chmod/chown/setTimes open the file, which blocks on a fifo and may have side effects on a device.
     */
    static void applyMetadata(List<Metadata> files) throws IOException {
        if (files.isEmpty()) {
            return;
        }
        List<String> command = new ArrayList<>(List.of("sh", "-c", METADATA_SCRIPT, "sh"));
        for (Metadata m : files) {
            command.add(m.path().toAbsolutePath().toString());
            command.add(m.uid() + ":" + m.gid());
            command.add(Integer.toOctalString(m.mode()));
            command.add(Long.toString(m.mtime().toInstant().getEpochSecond()));
        }
        HostCommand.run(command, null);
    }

    /** Linux's dev_t encoding (glibc gnu_dev_major). */
    static int major(long rdev) {
        return (int) (((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL));
    }

    /** Linux's dev_t encoding (glibc gnu_dev_minor). */
    static int minor(long rdev) {
        return (int) ((rdev & 0xff) | ((rdev >>> 12) & ~0xffL));
    }
}
