package dev.stagefarm.oci;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Where this process's SHA-256 digests come from, chosen once: libcrypto's ({@link OpenSslSha256}) where JNA and
 * libcrypto load and answer right, else the JDK's. System property {@value #PROPERTY}={@code jdk} keeps the JDK's
 * (for comparisons). No class of JNA is touched here: the thin client's distribution leaves JNA out, and then the
 * first use of {@link OpenSslSha256} fails to link and the JDK's is used.
 */
enum Sha256Engine {
    OPENSSL,
    JDK;

    static final String PROPERTY = "stagefarm.sha256";

    private static final Sha256Engine CHOSEN = choose(System.getProperty(PROPERTY));

    /** The engine this process uses. */
    static Sha256Engine chosen() {
        return CHOSEN;
    }

    /** A fresh SHA-256 digest of this engine. */
    MessageDigest newDigest() {
        if (this == OPENSSL) {
            return new OpenSslSha256();
        }
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("JDK without SHA-256", e);
        }
    }

    /** @param property the value of {@value #PROPERTY}, or null */
    static Sha256Engine choose(String property) {
        if ("jdk".equals(property)) {
            return JDK;
        }
        try {
            OpenSslSha256.bind();
            return OPENSSL;
        } catch (LinkageError | RuntimeException e) {
            // no JNA (the thin client), no libcrypto, a libcrypto without the SHA256_* functions or a wrong answer.
            // Not logged: a client JVM hashes its context before anything else logs, and the first logger would
            // start logback in it (~0.1 s of CPU; ClientStartupTest)
            return JDK;
        }
    }
}
