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

    /** Linux's dev_t encoding (glibc gnu_dev_major). */
    static int major(long rdev) {
        return (int) (((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL));
    }

    /** Linux's dev_t encoding (glibc gnu_dev_minor). */
    static int minor(long rdev) {
        return (int) ((rdev & 0xff) | ((rdev >>> 12) & ~0xffL));
    }
}
