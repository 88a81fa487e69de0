package dev.stagefarm.oci.layer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Resolves layer paths inside a root the way a chrooted process would, but refuses instead of clamping: a symlink on
 * the way whose target leaves the root is an attack, not something to follow. Nothing here ever follows the last
 * component; callers decide what to do with it.
 */
final class RootedPaths {

    private static final int MAX_SYMLINK_HOPS = 40;

    private final Path root;

    RootedPaths(Path root) {
        this.root = root;
    }

    /**
     * Normalises a tar entry name to root-relative components: drops {@code .} and empty parts, refuses absolute
     * names and {@code ..}. An empty list is the root itself.
     */
    static List<String> components(String entryName, String path, String what) throws HostileLayerException {
        if (path.indexOf('\0') >= 0) {
            throw new HostileLayerException(entryName, what + " contains a NUL byte");
        }
        if (path.startsWith("/")) {
            throw new HostileLayerException(entryName, what + " is an absolute path");
        }
        List<String> parts = new ArrayList<>();
        for (String part : path.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                throw new HostileLayerException(entryName, what + " has a '..' component");
            }
            parts.add(part);
        }
        return parts;
    }

    /**
     * The real directory for {@code dirComponents}, following symlinks that stay inside the root. Missing directories
     * are created when {@code create}, otherwise {@code null} is returned for them.
     */
    Path directory(List<String> dirComponents, String entry, boolean create) throws IOException {
        return directory(dirComponents, entry, create, 0);
    }

    private Path directory(List<String> dirComponents, String entry, boolean create, int hops) throws IOException {
        Deque<String> resolved = new ArrayDeque<>();
        Path current = root;
        for (int i = 0; i < dirComponents.size(); i++) {
            String part = dirComponents.get(i);
            Path next = current.resolve(part);
            if (Files.isSymbolicLink(next)) {
                if (hops >= MAX_SYMLINK_HOPS) {
                    throw new HostileLayerException(entry, "too many levels of symbolic links");
                }
                String target = Files.readSymbolicLink(next).toString();
                List<String> rest = new ArrayList<>(List.copyOf(resolved).reversed());
                List<String> targetPath = lexical(target.startsWith("/") ? new ArrayList<>() : rest, target);
                if (targetPath == null) {
                    throw new HostileLayerException(entry, "writes through symlink " + String.join("/", resolvedPlus(resolved, part))
                            + " -> " + target + ", which points outside the layer root");
                }
                targetPath.addAll(dirComponents.subList(i + 1, dirComponents.size()));
                return directory(targetPath, entry, create, hops + 1);
            }
            if (Files.isDirectory(next, LinkOption.NOFOLLOW_LINKS)) {
                current = next;
            } else if (Files.exists(next, LinkOption.NOFOLLOW_LINKS)) {
                throw new HostileLayerException(entry, String.join("/", resolvedPlus(resolved, part))
                        + " is not a directory");
            } else if (create) {
                Files.createDirectory(next);
                current = next;
            } else {
                return null;
            }
            resolved.push(part);
        }
        return current;
    }

    private static List<String> resolvedPlus(Deque<String> resolved, String part) {
        List<String> l = new ArrayList<>(List.copyOf(resolved).reversed());
        l.add(part);
        return l;
    }

    /** Applies a symlink target to a base path lexically; {@code null} when it climbs above the root. */
    private static List<String> lexical(List<String> base, String target) {
        List<String> out = new ArrayList<>(base);
        for (String part : target.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (out.isEmpty()) {
                    return null;
                }
                out.removeLast();
            } else {
                out.add(part);
            }
        }
        return out;
    }
}
