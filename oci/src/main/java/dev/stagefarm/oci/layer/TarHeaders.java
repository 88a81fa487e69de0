package dev.stagefarm.oci.layer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Writes tar headers the reproducible way. We write PAX extended headers ourselves because commons-compress encodes
 * PAX values as UTF-8 text, and xattr values (e.g. {@code security.capability}) are binary; one PAX header carries
 * the long/non-ASCII path, link path and xattrs, with records in sorted order, so the bytes never depend on anything
 * but the entry.
 */
final class TarHeaders {

    /** ustar name/linkname fields are 100 bytes; commons-compress wants a NUL, so 99 usable. */
    private static final int USTAR_NAME_MAX = 99;

    private TarHeaders() {
    }

    static TarArchiveOutputStream newTarStream(java.io.OutputStream out) {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out, StandardCharsets.UTF_8.name());
        // Anything we did not prepare ourselves must fail loudly rather than add headers of its own.
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_ERROR);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_STAR);
        tar.setAddPaxHeadersForNonAsciiNames(false);
        return tar;
    }

    /**
     * Starts an entry: a PAX header first when needed, then the ustar header. The caller sets type-specific fields
     * (size, link name, device numbers) through {@code entry} before calling, using the full names.
     */
    static void put(TarArchiveOutputStream tar, TarArchiveEntry entry, String fullName, String fullLinkName,
                    SortedMap<String, byte[]> xattrs) throws IOException {
        SortedMap<String, byte[]> records = new TreeMap<>();
        if (!fitsUstar(fullName)) {
            records.put("path", fullName.getBytes(StandardCharsets.UTF_8));
            entry.setName(ustarFallback(fullName));
        }
        if (fullLinkName != null && !fitsUstar(fullLinkName)) {
            records.put("linkpath", fullLinkName.getBytes(StandardCharsets.UTF_8));
            entry.setLinkName(ustarFallback(fullLinkName));
        }
        for (Map.Entry<String, byte[]> x : xattrs.entrySet()) {
            records.put("SCHILY.xattr." + x.getKey(), x.getValue());
        }
        if (!records.isEmpty()) {
            byte[] payload = paxPayload(records);
            TarArchiveEntry pax = new TarArchiveEntry(ustarFallback("PaxHeaders/" + lastComponent(fullName)),
                    TarConstants.LF_PAX_EXTENDED_HEADER_LC);
            normalize(pax, entry.getLastModifiedTime());
            pax.setMode(0644);
            pax.setSize(payload.length);
            tar.putArchiveEntry(pax);
            tar.write(payload);
            tar.closeArchiveEntry();
        }
        tar.putArchiveEntry(entry);
    }

    /** Clears everything that would otherwise leak the writing machine: names, atime/ctime, sub-second times. */
    static void normalize(TarArchiveEntry entry, FileTime mtime) {
        entry.setUserName("");
        entry.setGroupName("");
        entry.setUserId(0);
        entry.setGroupId(0);
        entry.setLastModifiedTime(mtime);
        entry.setLastAccessTime(null);
        entry.setStatusChangeTime(null);
        entry.setCreationTime(null);
    }

    private static boolean fitsUstar(String name) {
        for (int i = 0; i < name.length(); i++) {
            if (name.charAt(i) >= 0x80) {
                return false;
            }
        }
        return name.length() <= USTAR_NAME_MAX;
    }

    private static String ustarFallback(String name) {
        StringBuilder sb = new StringBuilder(Math.min(name.length(), USTAR_NAME_MAX));
        for (int i = 0; i < name.length() && sb.length() < USTAR_NAME_MAX; i++) {
            char c = name.charAt(i);
            sb.append(c < 0x80 ? c : '_');
        }
        return sb.toString();
    }

    private static String lastComponent(String name) {
        String trimmed = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
        return trimmed.substring(trimmed.lastIndexOf('/') + 1);
    }

    /** PAX records are {@code "<len> <key>=<value>\n"}, where len counts the whole record including itself. */
    static byte[] paxPayload(SortedMap<String, byte[]> records) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Map.Entry<String, byte[]> r : records.entrySet()) {
            byte[] key = r.getKey().getBytes(StandardCharsets.UTF_8);
            int rest = 1 + key.length + 1 + r.getValue().length + 1; // ' ' key '=' value '\n'
            int len = rest + Integer.toString(rest).length();
            if (Integer.toString(len).length() != Integer.toString(rest).length()) {
                len = rest + Integer.toString(len).length();
            }
            out.writeBytes(Integer.toString(len).getBytes(StandardCharsets.US_ASCII));
            out.write(' ');
            out.writeBytes(key);
            out.write('=');
            out.writeBytes(r.getValue());
            out.write('\n');
        }
        return out.toByteArray();
    }
}
