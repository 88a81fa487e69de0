package dev.stagefarm.oci;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * A sha256 content digest, validated once at construction and trusted afterwards.
 * {@link #toString()} is the canonical OCI form {@code sha256:<64 lowercase hex>}.
 */
public record Digest(String hex) implements Comparable<Digest> {

    public static final String SHA256 = "sha256";
    private static final String PREFIX = SHA256 + ":";
    private static final int HEX_LENGTH = 64;

    public Digest {
        if (hex == null) {
            throw new InvalidDigestException(null, "missing");
        }
        if (hex.length() != HEX_LENGTH) {
            throw new InvalidDigestException(PREFIX + hex, "a sha256 digest has 64 hex characters, got " + hex.length());
        }
        for (int i = 0; i < hex.length(); i++) {
            char c = hex.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                throw new InvalidDigestException(PREFIX + hex, "character '" + c + "' at " + i + " is not lowercase hex");
            }
        }
    }

    /** Parses {@code sha256:<64 lowercase hex>}; anything else throws {@link InvalidDigestException}. */
    public static Digest parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new InvalidDigestException(text, "empty");
        }
        int colon = text.indexOf(':');
        if (colon < 0) {
            throw new InvalidDigestException(text, "expected <algorithm>:<hex>");
        }
        String algorithm = text.substring(0, colon);
        if (!SHA256.equals(algorithm)) {
            throw new InvalidDigestException(text, "unsupported algorithm '" + algorithm + "' (only sha256)");
        }
        String hex = text.substring(colon + 1);
        if (hex.length() != HEX_LENGTH) {
            throw new InvalidDigestException(text, "a sha256 digest has 64 hex characters, got " + hex.length());
        }
        return new Digest(hex); // validates the hex; its message quotes PREFIX + hex, which is the input
    }

    /** Whether {@code text} would parse. */
    public static boolean isValid(String text) {
        try {
            parse(text);
            return true;
        } catch (InvalidDigestException e) {
            return false;
        }
    }

    public static Digest of(byte[] content) {
        return fromBytes(newSha256().digest(content));
    }

    public static Digest of(String utf8) {
        return of(utf8.getBytes(StandardCharsets.UTF_8));
    }

    /** Wraps a raw 32-byte sha256 value. */
    public static Digest fromBytes(byte[] sha256) {
        if (sha256.length != HEX_LENGTH / 2) {
            throw new IllegalArgumentException("a sha256 value has 32 bytes, got " + sha256.length);
        }
        return new Digest(HexFormat.of().formatHex(sha256));
    }

    /**
     * A fresh sha256 {@link MessageDigest}: libcrypto's where it loads, else the JDK's ({@link Sha256Engine}; a JVM
     * that has just started hashes with the JDK's at a fraction of its compiled speed).
     */
    public static MessageDigest newSha256() {
        return Sha256Engine.chosen().newDigest();
    }

    public String algorithm() {
        return SHA256;
    }

    /** The short form used in logs and messages: the first 12 hex characters. */
    public String shortHex() {
        return hex.substring(0, 12);
    }

    @Override
    public int compareTo(Digest other) {
        return hex.compareTo(other.hex);
    }

    @Override
    public String toString() {
        return PREFIX + hex;
    }
}
