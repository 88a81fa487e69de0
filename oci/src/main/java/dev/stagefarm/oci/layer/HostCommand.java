package dev.stagefarm.oci.layer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Runs one of the small host tools we need for what Java cannot do itself (read/write {@code trusted.*} and
 * {@code security.*} xattrs, mknod). A failure names the command, its exit code and the tail of its output.
 */
final class HostCommand {

    private static final int OUTPUT_TAIL = 2000;

    private HostCommand() {
    }

    /** Runs {@code command} and returns its stdout; stdin comes from {@code stdin} when not null. */
    static byte[] run(List<String> command, Path stdin) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(false);
        if (stdin != null) {
            pb.redirectInput(stdin.toFile());
        } else {
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        }
        Path stderr = Files.createTempFile("stagefarm-cmd", ".err");
        pb.redirectError(stderr.toFile());
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new IOException("cannot run " + command.get(0) + " (" + e.getMessage() + "); "
                    + "it comes from the Debian package " + packageOf(command.get(0)), e);
        }
        try {
            byte[] out = process.getInputStream().readAllBytes();
            int exit = process.waitFor();
            if (exit != 0) {
                String err = Files.readString(stderr, StandardCharsets.UTF_8);
                String tail = err.length() > OUTPUT_TAIL ? "…" + err.substring(err.length() - OUTPUT_TAIL) : err;
                throw new IOException(String.join(" ", command.subList(0, Math.min(command.size(), 6)))
                        + (command.size() > 6 ? " …" : "") + " failed with exit code " + exit + ": " + tail.strip());
            }
            return out;
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while running " + command.get(0));
        } finally {
            Files.deleteIfExists(stderr);
        }
    }

    private static String packageOf(String tool) {
        return switch (tool) {
            case "getfattr", "setfattr" -> "attr";
            default -> "coreutils";
        };
    }
}
