package dev.stagefarm.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** libcrypto's SHA-256 against the JDK's, on this machine's libcrypto (libssl3). */
class OpenSslSha256Test {

    @BeforeAll
    static void libcryptoInstalled() {
        assumeTrue(Stream.of("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib")
                .anyMatch(dir -> Files.exists(Path.of(dir, "libcrypto.so.3"))), "libcrypto.so.3 is not installed");
        OpenSslSha256.bind(); // what Sha256Engine does before it creates one
    }

    @Test
    void isChosenWhereLibcryptoLoadsUnlessTheJdksIsAskedFor() {
        assertThat(Sha256Engine.choose(null)).isEqualTo(Sha256Engine.OPENSSL);
        assertThat(Sha256Engine.chosen()).isEqualTo(Sha256Engine.OPENSSL);
        assertThat(Digest.newSha256()).isInstanceOf(OpenSslSha256.class);
        assertThat(Sha256Engine.choose("jdk")).isEqualTo(Sha256Engine.JDK);
        assertThat(Sha256Engine.JDK.newDigest()).isNotInstanceOf(OpenSslSha256.class);
    }

    @Test
    void hashesAsTheJdkDoesWhateverTheSplitOfTheInput() throws Exception {
        Random random = new Random(12);
        for (int size : new int[] {0, 1, 55, 56, 64, 65, 1000, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 300_000}) {
            byte[] data = new byte[size + 10];
            random.nextBytes(data);
            MessageDigest jdk = MessageDigest.getInstance("SHA-256");
            jdk.update(data, 5, size);
            byte[] expected = jdk.digest();

            OpenSslSha256 whole = new OpenSslSha256();
            whole.update(data, 5, size);
            assertThat(whole.digest()).as("%d bytes at once", size).isEqualTo(expected);

            OpenSslSha256 pieces = new OpenSslSha256();
            int at = 5;
            int left = size;
            while (left > 0) { // single bytes, small and large pieces, at odd offsets
                int n = Math.min(left, random.nextInt(3) == 0 ? 1 : 1 + random.nextInt(100_000));
                if (n == 1) {
                    pieces.update(data[at]);
                } else {
                    pieces.update(data, at, n);
                }
                at += n;
                left -= n;
            }
            assertThat(pieces.digest()).as("%d bytes in pieces", size).isEqualTo(expected);
        }
    }

    @Test
    void hashesDirectAndHeapBuffersFromTheirPositionToTheirLimit() throws Exception {
        Random random = new Random(13);
        for (int size : new int[] {0, 1, 63, 64 * 1024 + 7, 1_000_000}) {
            byte[] data = new byte[size + 20];
            random.nextBytes(data);
            MessageDigest jdk = MessageDigest.getInstance("SHA-256");
            jdk.update(data, 9, size);
            byte[] expected = jdk.digest();

            java.nio.ByteBuffer direct = java.nio.ByteBuffer.allocateDirect(data.length).put(data);
            direct.position(9).limit(9 + size);
            OpenSslSha256 fromDirect = new OpenSslSha256();
            fromDirect.update("x".getBytes()); // the buffer's bytes go on from what came before
            fromDirect.update(direct);
            assertThat(direct.position()).as("consumed to its limit").isEqualTo(9 + size);
            MessageDigest withPrefix = MessageDigest.getInstance("SHA-256");
            withPrefix.update("x".getBytes());
            withPrefix.update(data, 9, size);
            assertThat(fromDirect.digest()).as("%d bytes of a direct buffer", size).isEqualTo(withPrefix.digest());

            OpenSslSha256 fromHeap = new OpenSslSha256();
            fromHeap.update(java.nio.ByteBuffer.wrap(data, 9, size));
            assertThat(fromHeap.digest()).as("%d bytes of a heap buffer", size).isEqualTo(expected);
        }
    }

    @Test
    void digestAndResetStartOverAndACloneGoesOnByItself() throws Exception {
        OpenSslSha256 sha = new OpenSslSha256();
        sha.update("abc".getBytes());
        MessageDigest copy = (MessageDigest) sha.clone();
        sha.update("def".getBytes());
        copy.update("xyz".getBytes());
        assertThat(sha.digest()).isEqualTo(MessageDigest.getInstance("SHA-256").digest("abcdef".getBytes()));
        assertThat(copy.digest()).isEqualTo(MessageDigest.getInstance("SHA-256").digest("abcxyz".getBytes()));
        // digest() reset it
        assertThat(sha.digest()).isEqualTo(MessageDigest.getInstance("SHA-256").digest());
        sha.update("junk".getBytes());
        sha.reset();
        sha.update("abc".getBytes());
        assertThat(Digest.fromBytes(sha.digest()).hex())
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assertThat(sha.getDigestLength()).isEqualTo(32);
    }

    /** The thin client's distribution has no JNA: its digests are the JDK's, and right. */
    @Test
    void withoutJnaTheJdksIsUsed() throws Exception {
        java.net.URL[] withoutJna = {
            Digest.class.getProtectionDomain().getCodeSource().getLocation(),
            org.slf4j.LoggerFactory.class.getProtectionDomain().getCodeSource().getLocation()};
        try (java.net.URLClassLoader loader =
                new java.net.URLClassLoader(withoutJna, ClassLoader.getPlatformClassLoader())) {
            assertThatThrownByLoading(loader, "com.sun.jna.Native");
            Class<?> digest = Class.forName(Digest.class.getName(), true, loader);
            MessageDigest sha = (MessageDigest) digest.getMethod("newSha256").invoke(null);
            assertThat(sha.getClass().getName()).doesNotContain("OpenSsl");
            assertThat(HexFormat.of().formatHex(sha.digest("abc".getBytes())))
                    .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        }
    }

    private static void assertThatThrownByLoading(ClassLoader loader, String name) {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Class.forName(name, false, loader))
                .isInstanceOf(ClassNotFoundException.class);
    }
}
