package dev.stagefarm.oci.layer;

import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestingInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Unpacks a layer blob (gzip, zstd or plain tar, detected) into a directory, keeping modes, owners, mtimes,
 * symlinks, hard links, devices and xattrs, and refusing hostile entries with a {@link HostileLayerException} that
 * names the entry. Two ways to treat whiteouts:
 * <ul>
 *   <li>{@link Mode#OVERLAY_LOWER}: the directory starts empty and becomes an overlayfs lower layer; {@code .wh.NAME}
 *       becomes a 0/0 character device, {@code .wh..wh..opq} becomes {@code trusted.overlay.opaque=y}.</li>
 *   <li>{@link Mode#APPLY}: the layer is applied on top of a flattened root; whiteouts delete.</li>
 * </ul>
 * Per the OCI spec a whiteout only hides what the layers below had, never an entry of its own layer.
 */
public final class LayerExtractor {

    public enum Mode { OVERLAY_LOWER, APPLY }

    /**
     * @param diffId     sha256 of the uncompressed tar
     * @param blobDigest sha256 of the bytes as read (compare with the descriptor)
     * @param warnings   things kept imperfectly (e.g. a binary xattr value that commons-compress decoded lossily)
     */
    public record Result(Digest diffId, long uncompressedSize, Digest blobDigest, long blobSize, int entries,
                         List<String> warnings) {
    }

    private final Mode mode;

    public LayerExtractor(Mode mode) {
        this.mode = Objects.requireNonNull(mode, "mode");
    }

    /** Extracts {@code blob} (not closed) into {@code root}, which must exist (and be empty for OVERLAY_LOWER). */
    public Result extract(InputStream blob, Path root) throws IOException {
        Path absoluteRoot = root.toAbsolutePath().normalize();
        if (!Files.isDirectory(absoluteRoot, LinkOption.NOFOLLOW_LINKS)) {
            throw new java.nio.file.NotDirectoryException("extraction root " + absoluteRoot + " is not a directory");
        }
        DigestingInputStream raw = new DigestingInputStream(blob);
        DigestingInputStream tarBytes = new DigestingInputStream(LayerCompressions.decompress(raw));
        PaxXattrScanner scanner = new PaxXattrScanner(tarBytes);
        Run run = new Run(absoluteRoot, scanner);
        TarArchiveInputStream tar = new TarArchiveInputStream(scanner, StandardCharsets.UTF_8.name());
        String previous = null;
        while (true) {
            TarArchiveEntry entry;
            try {
                entry = tar.getNextEntry();
            } catch (IOException | IllegalArgumentException e) {
                throw new HostileLayerException(previous == null ? "(first header)" : previous,
                        "the tar header " + (previous == null ? "" : "after this entry ")
                                + "is corrupt (" + e.getMessage() + "); a size that lies misplaces the next header", e);
            }
            if (entry == null) {
                break;
            }
            previous = entry.getName();
            run.entry(tar, entry);
        }
        run.finish();
        drain(tarBytes);
        drain(raw);
        return new Result(tarBytes.digest(), tarBytes.count(), raw.digest(), raw.count(), run.entries,
                List.copyOf(run.warnings));
    }

    private static void drain(InputStream in) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        while (in.read(buffer) >= 0) {
            // the digests must cover trailing padding and the compressor's footer too
        }
    }

    /** One extraction's state. */
    private final class Run {
        private final Path root;
        private final RootedPaths paths;
        /** explicit entries of this layer: path → is a directory */
        private final Map<String, Boolean> seen = new HashMap<>();
        /** explicit entries and all their ancestors: what a whiteout in this layer must not touch */
        private final Set<String> touched = new HashSet<>();
        private final Map<Path, FileTime> directoryTimes = new HashMap<>();
        private final List<SpecialFiles.Metadata> specialMetadata = new ArrayList<>();
        private final List<String> whiteouts = new ArrayList<>();
        private final List<String> opaqueDirs = new ArrayList<>();
        private final List<Xattrs.Assignment> xattrs = new ArrayList<>();
        private final List<String> warnings = new ArrayList<>();
        private final byte[] buffer = new byte[256 * 1024];
        private int entries;
        /** binary-exact xattrs of the current entry from the scanner, or null to fall back to commons' text */
        private java.util.SortedMap<String, byte[]> rawXattrs;

        private final PaxXattrScanner scanner;

        Run(Path root, PaxXattrScanner scanner) {
            this.root = root;
            this.scanner = scanner;
            this.paths = new RootedPaths(root);
        }

        void entry(TarArchiveInputStream tar, TarArchiveEntry e) throws IOException {
            entries++;
            String name = e.getName();
            PaxXattrScanner.Seen raw = scanner.next();
            rawXattrs = raw != null && raw.name().equals(name) ? raw.xattrs() : null;
            List<String> parts = RootedPaths.components(name, name, "path");
            if (parts.isEmpty()) {
                if (!e.isDirectory()) {
                    throw new HostileLayerException(name, "the layer root can only be a directory");
                }
                applyOwnerAndMode(root, e, false);
                directoryTimes.put(root, e.getLastModifiedTime());
                return;
            }
            String rel = String.join("/", parts);
            String base = parts.getLast();
            List<String> parentParts = parts.subList(0, parts.size() - 1);
            String parentRel = String.join("/", parentParts);

            if (base.startsWith(Whiteouts.PREFIX)) {
                whiteout(name, parentParts, parentRel, base);
                return;
            }
            Boolean before = seen.put(rel, e.isDirectory());
            if (before != null && !(before && e.isDirectory())) {
                throw new HostileLayerException(name, "duplicate entry: " + rel + " already appeared in this layer");
            }
            markTouched(rel);

            Path parent = paths.directory(parentParts, name, true);
            Path target = parent.resolve(base);
            try {
                create(tar, e, name, target);
            } catch (HostileLayerException h) {
                throw h;
            } catch (IOException io) {
                throw new HostileLayerException(name, "cannot extract: " + io.getMessage(), io);
            }
            collectXattrs(e, name, target);
        }

        private void create(TarArchiveInputStream tar, TarArchiveEntry e, String name, Path target)
                throws IOException {
            boolean exists = Files.exists(target, LinkOption.NOFOLLOW_LINKS);
            if (e.isDirectory()) {
                if (exists && !Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                    deleteRecursively(target);
                    exists = false;
                }
                if (!exists) {
                    Files.createDirectory(target);
                }
                applyOwnerAndMode(target, e, false);
                directoryTimes.put(target, e.getLastModifiedTime());
                return;
            }
            if (exists) {
                deleteRecursively(target); // a later layer's file replaces whatever was there
            }
            if (e.isLink()) {
                Path source = hardlinkSource(name, e.getLinkName());
                Files.createLink(target, source);
                return; // a hard link shares the inode's metadata
            }
            if (e.isSymbolicLink()) {
                Files.createSymbolicLink(target, Path.of(e.getLinkName()));
                applyOwnerAndMode(target, e, true);
                setTime(target, e.getLastModifiedTime());
                return;
            }
            if (e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO()) {
                SpecialFiles.Kind kind = e.isFIFO() ? SpecialFiles.Kind.FIFO
                        : e.isCharacterDevice() ? SpecialFiles.Kind.CHAR : SpecialFiles.Kind.BLOCK;
                SpecialFiles.create(List.of(new SpecialFiles.Node(target, kind, e.getDevMajor(), e.getDevMinor())));
                // Java's chmod/chown/setTimes open the file, which blocks on a fifo and may touch a device:
                // host tools do it by path, batched at the end
                specialMetadata.add(new SpecialFiles.Metadata(target, (int) e.getLongUserId(),
                        (int) e.getLongGroupId(), e.getMode() & 07777, e.getLastModifiedTime()));
                return;
            } else if (e.isFile()) {
                writeContent(tar, e, name, target);
            } else {
                throw new HostileLayerException(name, "unsupported tar entry type '" + (char) e.getLinkFlag() + "'");
            }
            applyOwnerAndMode(target, e, false);
            setTime(target, e.getLastModifiedTime());
        }

        private void writeContent(TarArchiveInputStream tar, TarArchiveEntry e, String name, Path target)
                throws IOException {
            long declared = e.getSize();
            long written = 0;
            try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                int n;
                while ((n = tar.read(buffer)) > 0) {
                    out.write(buffer, 0, n);
                    written += n;
                }
            } catch (IOException io) {
                throw new HostileLayerException(name, "declares " + declared + " bytes but the archive ends after "
                        + written + " (" + io.getMessage() + ")", io);
            }
            if (written != declared) {
                throw new HostileLayerException(name, "declares " + declared + " bytes but the archive ends after "
                        + written);
            }
        }

        private Path hardlinkSource(String name, String linkName) throws IOException {
            List<String> parts = RootedPaths.components(name, linkName, "hard link target " + linkName);
            if (parts.isEmpty()) {
                throw new HostileLayerException(name, "hard link to the layer root");
            }
            String rel = String.join("/", parts);
            if (mode == Mode.OVERLAY_LOWER && !seen.containsKey(rel)) {
                throw new HostileLayerException(name, "hard link to " + linkName
                        + ", which is not an earlier entry of this layer");
            }
            Path dir = paths.directory(parts.subList(0, parts.size() - 1), name, false);
            Path source = dir == null ? null : dir.resolve(parts.getLast());
            if (source == null || !Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
                throw new HostileLayerException(name, "hard link to " + linkName + ", which does not exist");
            }
            if (Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
                throw new HostileLayerException(name, "hard link to directory " + linkName);
            }
            return source;
        }

        private void whiteout(String name, List<String> parentParts, String parentRel, String base)
                throws IOException {
            if (base.equals(Whiteouts.OPAQUE)) {
                markTouched(parentRel);
                if (mode == Mode.APPLY) {
                    Path dir = paths.directory(parentParts, name, false);
                    if (dir != null) {
                        clearExceptTouched(dir, parentRel);
                    }
                } else {
                    opaqueDirs.add(parentRel);
                }
                return;
            }
            if (base.startsWith(Whiteouts.META_PREFIX)) {
                throw new HostileLayerException(name, "AUFS meta entry " + base + " is not a valid layer entry");
            }
            String hidden = base.substring(Whiteouts.PREFIX.length());
            if (hidden.isEmpty() || hidden.equals(".") || hidden.equals("..")) {
                throw new HostileLayerException(name, "whiteout of '" + hidden + "'");
            }
            String hiddenRel = parentRel.isEmpty() ? hidden : parentRel + "/" + hidden;
            if (mode == Mode.APPLY) {
                if (touched.contains(hiddenRel)) {
                    return; // re-created by this very layer; the whiteout only hides the layers below
                }
                Path dir = paths.directory(parentParts, name, false);
                Path victim = dir == null ? null : dir.resolve(hidden);
                if (victim != null && Files.exists(victim, LinkOption.NOFOLLOW_LINKS)) {
                    deleteRecursively(victim);
                }
            } else {
                whiteouts.add(hiddenRel);
            }
        }

        void finish() throws IOException {
            if (mode == Mode.OVERLAY_LOWER) {
                List<SpecialFiles.Node> devices = new ArrayList<>();
                for (String rel : whiteouts) {
                    List<String> parts = List.of(rel.split("/"));
                    Path target = paths.directory(parts.subList(0, parts.size() - 1), rel, true).resolve(parts.getLast());
                    if (touched.contains(rel)) {
                        // replaced in this layer: a directory must hide the lower one's contents
                        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                            opaqueDirs.add(rel);
                        }
                    } else {
                        devices.add(new SpecialFiles.Node(target, SpecialFiles.Kind.CHAR, 0, 0));
                    }
                }
                SpecialFiles.create(devices);
                for (String rel : opaqueDirs) {
                    List<String> parts = rel.isEmpty() ? List.of() : List.of(rel.split("/"));
                    Path dir = paths.directory(parts, rel + "/" + Whiteouts.OPAQUE, true);
                    xattrs.add(new Xattrs.Assignment(dir, Xattrs.OVERLAY_OPAQUE, new byte[] {'y'}));
                }
            }
            Xattrs.apply(xattrs);
            SpecialFiles.applyMetadata(specialMetadata);
            // deepest first, so that setting a child's time does not disturb its parent's afterwards
            List<Path> dirs = new ArrayList<>(directoryTimes.keySet());
            dirs.sort((a, b) -> Integer.compare(b.getNameCount(), a.getNameCount()));
            for (Path d : dirs) {
                setTime(d, directoryTimes.get(d));
            }
        }

        private void collectXattrs(TarArchiveEntry e, String name, Path target) {
            if (e.isSymbolicLink() || e.isLink()) {
                return; // user.* cannot be set on symlinks; hard links share the inode's attributes
            }
            if (rawXattrs != null) {
                rawXattrs.forEach((key, value) -> {
                    if (Xattrs.belongsInLayer(key)) { // never let a layer set overlayfs' own state
                        xattrs.add(new Xattrs.Assignment(target, key, value));
                    }
                });
                return;
            }
            for (Map.Entry<String, String> h : e.getExtraPaxHeaders().entrySet()) {
                if (!h.getKey().startsWith("SCHILY.xattr.")) {
                    continue;
                }
                String key = h.getKey().substring("SCHILY.xattr.".length());
                if (!Xattrs.belongsInLayer(key)) {
                    continue; // never let a layer set overlayfs' own state
                }
                if (h.getValue().indexOf('\uFFFD') >= 0) {
                    warnings.add(name + ": xattr " + key + " has a binary value the tar reader could not keep; skipped");
                    continue;
                }
                xattrs.add(new Xattrs.Assignment(target, key, h.getValue().getBytes(StandardCharsets.UTF_8)));
            }
        }

        private void markTouched(String rel) {
            String r = rel;
            while (!r.isEmpty() && touched.add(r)) {
                int slash = r.lastIndexOf('/');
                r = slash < 0 ? "" : r.substring(0, slash);
            }
        }

        private void clearExceptTouched(Path dir, String dirRel) throws IOException {
            try (DirectoryStream<Path> children = Files.newDirectoryStream(dir)) {
                for (Path child : children) {
                    String rel = dirRel.isEmpty() ? child.getFileName().toString() : dirRel + "/" + child.getFileName();
                    if (!touched.contains(rel)) {
                        deleteRecursively(child);
                    }
                }
            }
        }
    }

    private static void applyOwnerAndMode(Path p, TarArchiveEntry e, boolean symlink) throws IOException {
        Files.setAttribute(p, "unix:uid", (int) e.getLongUserId(), LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", (int) e.getLongGroupId(), LinkOption.NOFOLLOW_LINKS);
        if (!symlink) {
            // after chown, which clears setuid/setgid
            Files.setAttribute(p, "unix:mode", e.getMode() & 07777, LinkOption.NOFOLLOW_LINKS);
        }
    }

    private static void setTime(Path p, FileTime mtime) {
        try {
            Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .setTimes(mtime, mtime, null);
        } catch (IOException | UnsupportedOperationException e) {
            // symlink times are cosmetic and not settable everywhere
        }
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            Files.deleteIfExists(p);
            return;
        }
        Files.walkFileTree(p, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
