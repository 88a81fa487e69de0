package dev.stagefarm.oci.layer;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Sees the tar bytes on their way to commons-compress and keeps the raw bytes of each entry's
 * {@code SCHILY.xattr.*} PAX records: commons-compress decodes PAX values as UTF-8 text, which mangles binary
 * values such as {@code security.capability}. The scan follows only the tar framing (512-byte headers, sizes);
 * the extractor uses its values only when the entry name it recorded matches the entry commons-compress returns.
 */
final class PaxXattrScanner extends FilterInputStream {

    /** What the scanner saw for one entry, in archive order. */
    record Seen(String name, SortedMap<String, byte[]> xattrs) {
    }

    private static final int BLOCK = 512;
    private static final String XATTR = "SCHILY.xattr.";

    private final Deque<Seen> seen = new ArrayDeque<>();
    private final byte[] header = new byte[BLOCK];
    private int headerFill;
    private long skip; // data bytes (incl. padding) still to pass before the next header
    private byte[] paxPayload; // non-null while capturing a PAX extended header's data
    private int paxFill;
    private long paxPadding;
    private Map<String, byte[]> pendingPax;
    private boolean broken;

    PaxXattrScanner(InputStream in) {
        super(in);
    }

    /** The next entry the scanner saw, or null when it has none (or gave up on a malformed stream). */
    Seen next() {
        return broken ? null : seen.poll();
    }

    @Override
    public int read() throws IOException {
        int b = in.read();
        if (b >= 0) {
            scan(new byte[] {(byte) b}, 0, 1);
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
            scan(b, off, n);
        }
        return n;
    }

    @Override
    public long skip(long n) throws IOException {
        byte[] buffer = new byte[(int) Math.min(n, 8192)];
        long done = 0;
        while (done < n) {
            int r = read(buffer, 0, (int) Math.min(buffer.length, n - done));
            if (r < 0) {
                break;
            }
            done += r;
        }
        return done;
    }

    private void scan(byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        while (i < end && !broken) {
            if (paxPayload != null) {
                int n = Math.min(end - i, paxPayload.length - paxFill);
                System.arraycopy(b, i, paxPayload, paxFill, n);
                paxFill += n;
                i += n;
                if (paxFill == paxPayload.length) {
                    pendingPax = parsePax(paxPayload);
                    paxPayload = null;
                    skip = paxPadding;
                }
            } else if (skip > 0) {
                int n = (int) Math.min(end - i, skip);
                skip -= n;
                i += n;
            } else {
                int n = Math.min(end - i, BLOCK - headerFill);
                System.arraycopy(b, i, header, headerFill, n);
                headerFill += n;
                i += n;
                if (headerFill == BLOCK) {
                    headerFill = 0;
                    onHeader();
                }
            }
        }
    }

    private void onHeader() {
        boolean zero = true;
        for (byte x : header) {
            if (x != 0) {
                zero = false;
                break;
            }
        }
        if (zero) {
            return; // end-of-archive blocks
        }
        long size = parseSize();
        if (size < 0) {
            broken = true;
            return;
        }
        long padded = (size + BLOCK - 1) / BLOCK * BLOCK;
        char type = (char) header[156];
        switch (type) {
            case 'x' -> {
                if (size > 16 << 20) {
                    broken = true; // an absurd PAX header; commons-compress will complain on its own
                    return;
                }
                paxPayload = new byte[(int) size];
                paxFill = 0;
                paxPadding = padded - size;
                if (size == 0) {
                    pendingPax = Map.of();
                    paxPayload = null;
                }
            }
            case 'g', 'L', 'K' -> skip = padded;
            default -> {
                String name = name();
                SortedMap<String, byte[]> xattrs = new TreeMap<>();
                if (pendingPax != null) {
                    byte[] path = pendingPax.get("path");
                    if (path != null) {
                        name = new String(path, StandardCharsets.UTF_8);
                    }
                    pendingPax.forEach((k, v) -> {
                        if (k.startsWith(XATTR)) {
                            xattrs.put(k.substring(XATTR.length()), v);
                        }
                    });
                    pendingPax = null;
                }
                seen.add(new Seen(name, xattrs));
                // hard links, symlinks, dirs and devices carry no data even if a size is set (as commons reads it)
                skip = (type == '0' || type == '\0' || type == '7') ? padded : 0;
            }
        }
    }

    private String name() {
        String name = cString(0, 100);
        String magic = cString(257, 6);
        if (magic.startsWith("ustar")) {
            String prefix = cString(345, 155);
            if (!prefix.isEmpty()) {
                name = prefix + "/" + name;
            }
        }
        return name;
    }

    private String cString(int from, int length) {
        int end = from;
        while (end < from + length && header[end] != 0) {
            end++;
        }
        return new String(header, from, end - from, StandardCharsets.UTF_8);
    }

    private long parseSize() {
        if ((header[124] & 0x80) != 0) {
            long v = 0;
            for (int i = 125; i < 136; i++) {
                v = (v << 8) | (header[i] & 0xff);
            }
            return v;
        }
        String octal = cString(124, 12).trim();
        if (octal.isEmpty()) {
            return 0;
        }
        try {
            return Long.parseLong(octal, 8);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** PAX records {@code "<len> <key>=<value>\n"}; values kept as raw bytes. */
    static Map<String, byte[]> parsePax(byte[] data) {
        Map<String, byte[]> records = new TreeMap<>();
        int pos = 0;
        while (pos < data.length) {
            int space = pos;
            while (space < data.length && data[space] != ' ') {
                space++;
            }
            int len;
            try {
                len = Integer.parseInt(new String(data, pos, space - pos, StandardCharsets.US_ASCII));
            } catch (NumberFormatException e) {
                return records;
            }
            int recordEnd = pos + len;
            if (len <= 0 || recordEnd > data.length || space >= recordEnd) {
                return records;
            }
            int eq = space + 1;
            while (eq < recordEnd && data[eq] != '=') {
                eq++;
            }
            if (eq >= recordEnd - 1) {
                return records;
            }
            String key = new String(data, space + 1, eq - space - 1, StandardCharsets.UTF_8);
            records.put(key, Arrays.copyOfRange(data, eq + 1, recordEnd - 1)); // drop the trailing '\n'
            pos = recordEnd;
        }
        return records;
    }
}
