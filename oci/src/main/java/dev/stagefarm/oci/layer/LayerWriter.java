package dev.stagefarm.oci.layer;

import dev.stagefarm.oci.Compression;
import dev.stagefarm.oci.Descriptor;
import dev.stagefarm.oci.Digest;
import dev.stagefarm.oci.DigestingOutputStream;
import dev.stagefarm.oci.MediaTypes;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Turns a directory into a reproducible layer: entries in sorted order (parents first), numeric owners without
 * names, whole-second mtimes clamped to {@code SOURCE_DATE_EPOCH} when given, hard links by inode, devices, fifos and
 * symlinks kept, sockets skipped, fixed compression. diff_id and blob digest are computed in the one pass that writes
 * the bytes: tar → sha256 (diff_id) → compressor → sha256 (blob) → out (uncompressed: tar → sha256 → out, one digest).
 *
 * <p>With {@link Options#overlayUpper()} the directory is an overlayfs upper dir: 0/0 character devices become
 * {@code .wh.NAME} entries, {@code trusted.overlay.opaque=y} directories get a {@code .wh..wh..opq} entry, and
 * overlayfs' own xattrs stay out.
 */
public final class LayerWriter {

    /**
     * @param sourceDateEpoch when present, no mtime in the layer is later than this (whole seconds)
     * @param overlayUpper    translate overlayfs whiteouts and opaque dirs into OCI whiteouts
     * @param xattrs          carry extended attributes ({@code user.*}, {@code trusted.*} except overlay,
     *                        {@code security.capability}); needs {@code getfattr}
     */
    public record Options(Compression compression, Optional<Instant> sourceDateEpoch, boolean overlayUpper,
                          boolean xattrs) {

        public Options {
            Objects.requireNonNull(compression, "compression");
            sourceDateEpoch = sourceDateEpoch == null ? Optional.empty()
                    : sourceDateEpoch.map(t -> Instant.ofEpochSecond(t.getEpochSecond()));
        }

        /** gzip, no clamping, plain directory, xattrs on. */
        public static Options defaults() {
            return new Options(Compression.GZIP, Optional.empty(), false, true);
        }

        public Options withCompression(Compression c) {
            return new Options(c, sourceDateEpoch, overlayUpper, xattrs);
        }

        public Options withSourceDateEpoch(Instant epoch) {
            return new Options(compression, Optional.ofNullable(epoch), overlayUpper, xattrs);
        }

        public Options withOverlayUpper(boolean upper) {
            return new Options(compression, sourceDateEpoch, upper, xattrs);
        }

        public Options withXattrs(boolean on) {
            return new Options(compression, sourceDateEpoch, overlayUpper, on);
        }
    }

    private static final int S_IFMT = 0170000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFLNK = 0120000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFIFO = 0010000;
    private static final String UNIX_ATTRIBUTES = "unix:mode,uid,gid,ino,dev,rdev,nlink,size,lastModifiedTime";
    private static final int IO_BUFFER = 256 * 1024;

    private final Options options;

    public LayerWriter(Options options) {
        this.options = Objects.requireNonNull(options, "options");
    }

    public Options options() {
        return options;
    }

    /** Writes the layer of {@code root} to {@code file}. */
    public LayerResult write(Path root, Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            return write(root, out);
        }
    }

    /**
     * Writes the layer of {@code root} to {@code file} with its extended attributes as the caller
     * already knows them (by absolute path; {@link Xattrs#readTree}'s form): no {@code getfattr}.
     */
    public LayerResult write(Path root, Path file, Map<Path, SortedMap<String, byte[]>> knownXattrs)
            throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            return write(root, out, knownXattrs);
        }
    }

    /** Writes the layer of {@code root} to {@code out} (not closed). */
    public LayerResult write(Path root, OutputStream out) throws IOException {
        return write(root, out, null);
    }

    private LayerResult write(Path root, OutputStream out, Map<Path, SortedMap<String, byte[]>> knownXattrs)
            throws IOException {
        Path absoluteRoot = root.toAbsolutePath().normalize();
        if (!Files.isDirectory(absoluteRoot, LinkOption.NOFOLLOW_LINKS)) {
            throw new java.nio.file.NotDirectoryException("layer root " + absoluteRoot + " is not a directory");
        }
        Map<Path, SortedMap<String, byte[]>> xattrs = !options.xattrs() ? Map.of()
                : knownXattrs != null ? knownXattrs : Xattrs.readTree(absoluteRoot);
        boolean plain = options.compression() == Compression.NONE;
        // an uncompressed layer's blob is its tar: hashed once, the digest is both blob digest and diff_id
        DigestingOutputStream blob = plain ? null
                : new DigestingOutputStream(new BufferedOutputStream(nonClosing(out), IO_BUFFER));
        OutputStream compressed = plain ? nonClosing(out) : LayerCompressions.compress(options.compression(), blob);
        DigestingOutputStream diff = new DigestingOutputStream(compressed);
        try (TarArchiveOutputStream tar = TarHeaders.newTarStream(new BufferedOutputStream(diff, IO_BUFFER))) {
            new TreeWalk(tar, absoluteRoot, xattrs).children(absoluteRoot, "");
            tar.finish();
        }
        // closing the tar closed diff → compressor → blob → (non-closing) out, flushing everything
        Digest diffId = diff.digest();
        Descriptor descriptor = plain
                ? new Descriptor(MediaTypes.OCI_LAYER_TAR, diffId, diff.count())
                : new Descriptor(MediaTypes.ociLayer(options.compression()), blob.digest(), blob.count());
        return new LayerResult(descriptor, diffId, diff.count());
    }

    /** One walk over one tree; holds the hard-link table. */
    private final class TreeWalk {
        private final TarArchiveOutputStream tar;
        private final Path root;
        private final Map<Path, SortedMap<String, byte[]>> xattrs;
        private final Map<List<Object>, String> firstNameOfInode = new HashMap<>();
        private final byte[] buffer = new byte[IO_BUFFER];

        TreeWalk(TarArchiveOutputStream tar, Path root, Map<Path, SortedMap<String, byte[]>> xattrs) {
            this.tar = tar;
            this.root = root;
            this.xattrs = xattrs;
        }

        void children(Path dir, String prefix) throws IOException {
            List<String> names = new ArrayList<>();
            try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
                for (Path p : stream) {
                    names.add(p.getFileName().toString());
                }
            }
            Collections.sort(names);
            for (String name : names) {
                entry(dir.resolve(name), prefix + name);
            }
        }

        private void entry(Path path, String name) throws IOException {
            Map<String, Object> a = Files.readAttributes(path, UNIX_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) a.get("mode");
            int type = mode & S_IFMT;
            FileTime mtime = clamp((FileTime) a.get("lastModifiedTime"));
            SortedMap<String, byte[]> rawXattrs = xattrs.getOrDefault(path, Xattrs.none());
            SortedMap<String, byte[]> kept = new TreeMap<>();
            rawXattrs.forEach((k, v) -> {
                if (Xattrs.belongsInLayer(k)) {
                    kept.put(k, v);
                }
            });
            if (options.overlayUpper()) {
                rejectUnsupportedOverlayState(rawXattrs, name);
                if (type == S_IFCHR && (Long) a.get("rdev") == 0L) {
                    whiteout(parentPrefix(name) + Whiteouts.PREFIX + path.getFileName(), mtime);
                    return;
                }
            }
            TarArchiveEntry e;
            String linkName = null;
            switch (type) {
                case S_IFDIR -> e = new TarArchiveEntry(name + "/", TarConstants.LF_DIR);
                case S_IFREG -> {
                    long nlink = ((Number) a.get("nlink")).longValue();
                    List<Object> inode = List.of(a.get("dev"), a.get("ino"));
                    String first = nlink > 1 ? firstNameOfInode.putIfAbsent(inode, name) : null;
                    if (first != null) {
                        e = new TarArchiveEntry(name, TarConstants.LF_LINK);
                        linkName = first;
                    } else {
                        e = new TarArchiveEntry(name, TarConstants.LF_NORMAL);
                    }
                }
                case S_IFLNK -> {
                    e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
                    linkName = Files.readSymbolicLink(path).toString();
                }
                case S_IFCHR, S_IFBLK -> {
                    e = new TarArchiveEntry(name, type == S_IFCHR ? TarConstants.LF_CHR : TarConstants.LF_BLK);
                    long rdev = (Long) a.get("rdev");
                    e.setDevMajor(SpecialFiles.major(rdev));
                    e.setDevMinor(SpecialFiles.minor(rdev));
                }
                case S_IFIFO -> e = new TarArchiveEntry(name, TarConstants.LF_FIFO);
                default -> {
                    return; // sockets (and anything stranger) cannot live in a tar; Docker skips them too
                }
            }
            TarHeaders.normalize(e, mtime);
            e.setMode(mode & 07777);
            e.setUserId((Integer) a.get("uid"));
            e.setGroupId((Integer) a.get("gid"));
            if (linkName != null) {
                e.setLinkName(linkName);
            }
            boolean regularContent = type == S_IFREG && e.getLinkFlag() == TarConstants.LF_NORMAL;
            long size = regularContent ? (Long) a.get("size") : 0;
            e.setSize(size);
            TarHeaders.put(tar, e, e.getName(), linkName, kept);
            if (regularContent) {
                copyContent(path, name, size);
            }
            tar.closeArchiveEntry();
            if (type == S_IFDIR) {
                if (options.overlayUpper() && isOpaque(rawXattrs)) {
                    whiteout(name + "/" + Whiteouts.OPAQUE, mtime);
                }
                children(path, name + "/");
            }
        }

        private void copyContent(Path path, String name, long size) throws IOException {
            long copied = 0;
            try (InputStream in = Files.newInputStream(path, LinkOption.NOFOLLOW_LINKS)) {
                int n;
                while (copied < size && (n = in.read(buffer, 0, (int) Math.min(buffer.length, size - copied))) > 0) {
                    tar.write(buffer, 0, n);
                    copied += n;
                }
            }
            if (copied != size) {
                throw new IOException("file " + name + " changed size while being written to the layer ("
                        + size + " bytes expected, " + copied + " read); is something still writing to " + root + "?");
            }
        }

        private void whiteout(String name, FileTime mtime) throws IOException {
            TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_NORMAL);
            TarHeaders.normalize(e, mtime);
            e.setMode(0);
            e.setSize(0);
            TarHeaders.put(tar, e, name, null, Xattrs.none());
            tar.closeArchiveEntry();
        }
    }

    private FileTime clamp(FileTime mtime) {
        long seconds = Math.floorDiv(mtime.toMillis(), 1000L);
        if (options.sourceDateEpoch().isPresent()) {
            seconds = Math.min(seconds, options.sourceDateEpoch().get().getEpochSecond());
        }
        return FileTime.from(Instant.ofEpochSecond(seconds));
    }

    private static boolean isOpaque(SortedMap<String, byte[]> rawXattrs) {
        byte[] v = rawXattrs.get(Xattrs.OVERLAY_OPAQUE);
        return v != null && v.length == 1 && v[0] == 'y';
    }

    /** redirect_dir and metacopy leave data in the lower layers; a layer made from such an upper dir would lie. */
    private static void rejectUnsupportedOverlayState(SortedMap<String, byte[]> rawXattrs, String name)
            throws IOException {
        for (String key : List.of("trusted.overlay.redirect", "trusted.overlay.metacopy")) {
            if (rawXattrs.containsKey(key)) {
                throw new IOException("overlay upper entry " + name + " carries " + key
                        + ": mount overlayfs with redirect_dir=off,metacopy=off so that the upper dir is a complete diff");
            }
        }
    }

    private static String parentPrefix(String name) {
        int slash = name.lastIndexOf('/');
        return slash < 0 ? "" : name.substring(0, slash + 1);
    }

    private static OutputStream nonClosing(OutputStream out) {
        return new java.io.FilterOutputStream(out) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                out.flush();
            }
        };
    }
}
