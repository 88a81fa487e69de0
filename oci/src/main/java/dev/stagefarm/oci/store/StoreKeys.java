package dev.stagefarm.oci.store;

import java.util.regex.Pattern;

/**
 * The keys a {@link BlobStore} accepts from its callers, checked the same way by every implementation: a key names
 * one object below its own prefix and nothing else (no '..', no empty segment).
 */
final class StoreKeys {

    static final String CACHE_PREFIX = "cache/";
    /**
     * The most a cache record read loads into memory: records are a few kilobytes (a signed list of layers); a
     * larger object under {@code cache/} is damage or an attack, refused naming this limit.
     */
    static final int RECORD_MAX_BYTES = 16 << 20;
    /** S3's limit for a key, in UTF-8 bytes (here ASCII characters); a directory store's is the same. */
    static final int OBJECT_KEY_MAX_CHARS = 1024;
    /** A path segment longer than this is no file name on Linux (NAME_MAX). */
    private static final int SEGMENT_MAX_CHARS = 255;
    private static final Pattern OBJECT_KEY = Pattern.compile("[A-Za-z0-9._:=+-]+(/[A-Za-z0-9._:=+-]+)*");
    private static final Pattern SEALED_KEY = Pattern.compile("secrets/[A-Za-z0-9_-][A-Za-z0-9._-]*");
    private static final Pattern RECORD_KEY = Pattern.compile("[A-Za-z0-9._:=+-]+(/[A-Za-z0-9._:=+-]+)*");

    private StoreKeys() {
    }

    /** A sealed object's key, {@code secrets/<id>}, checked. */
    static String sealed(String key) {
        if (key == null || !SEALED_KEY.matcher(key).matches()) {
            throw new IllegalArgumentException("invalid sealed object key '" + key
                    + "': secrets/<id>, the id of letters, digits and ._-");
        }
        return key;
    }

    /** The object key of the cache record {@code key}: {@code cache/<key>}, checked. */
    static String record(String key) {
        if (key == null || !RECORD_KEY.matcher(key).matches() || key.contains("..")) {
            throw new IllegalArgumentException("invalid cache record key '" + key
                    + "': use letters, digits and ._:=+- in '/'-separated non-empty segments, no '..'");
        }
        return CACHE_PREFIX + key;
    }

    /**
     * Whether {@code key} is an object key every store can hold: '/'-separated non-empty segments of letters, digits
     * and {@code ._:=+-}, none of them '.' or '..', at most 1024 characters. A directory store maps it to a path
     * below its root without further thought.
     */
    static boolean isValidObjectKey(String key) {
        if (key == null || key.length() > OBJECT_KEY_MAX_CHARS || !OBJECT_KEY.matcher(key).matches()) {
            return false;
        }
        for (String segment : key.split("/")) {
            if (segment.equals(".") || segment.equals("..") || segment.length() > SEGMENT_MAX_CHARS) {
                return false;
            }
        }
        return true;
    }

    /** @throws IllegalArgumentException naming the key when it is not {@linkplain #isValidObjectKey valid} */
    static String checkObjectKey(String key) {
        if (!isValidObjectKey(key)) {
            throw new IllegalArgumentException("invalid object key '" + key + "': use letters, digits and ._:=+- in"
                    + " '/'-separated non-empty segments of at most " + SEGMENT_MAX_CHARS + ", none '.' or '..', at most "
                    + OBJECT_KEY_MAX_CHARS + " characters");
        }
        return key;
    }
}
