package dev.stagefarm.oci;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

/**
 * OpenSSL's SHA-256 (libcrypto, through JNA's direct mapping: the FFM API is a preview in Java 21, our release) as a
 * {@link MessageDigest}. The JDK's SHA-256 is as fast (SHA-NI) only in C2-compiled code: a JVM that has just started
 * hashes in its interpreter and C1 code at ~30 MB/s until C2 has compiled the loop, and a one-shot farm, whose JVM
 * lives for one build, hashed most of a 200 MiB layer that way (bench/README.md, "Session 12 (issue 12): the cold
 * one-shot's run path"). libcrypto hashes at its full speed from the first byte, whatever the JIT has done. Only
 * {@link Sha256Engine} creates these, once it has bound libcrypto and checked its answer against known values.
 */
final class OpenSslSha256 extends MessageDigest implements Cloneable {
    /** Tried in order: the unversioned name needs libssl-dev, the versioned one is what libssl3 installs. */
    private static final List<String> LIBRARY_NAMES = List.of("crypto", "libcrypto.so.3");
    /**
     * Room for a SHA256_CTX: 112 bytes in OpenSSL 1.1 and 3 (eight state words, two length words, sixteen block words,
     * num, md_len), allocated with room to spare so that a libcrypto with a larger context writes into our memory.
     */
    private static final int CONTEXT_BYTES = 256;
    /** The native buffer each update's bytes are copied through, at most. */
    private static final int CHUNK = 64 * 1024;
    private static final int LENGTH = 32;
    /** Whether {@link #bind} succeeded (guarded by the class). */
    private static boolean bound;

    private Memory context = new Memory(CONTEXT_BYTES);
    /** Grown on demand up to {@link #CHUNK}: most digests hash a few bytes (names, keys), a few hash layers. */
    private Memory buffer;

    OpenSslSha256() {
        super("SHA-256");
        init();
    }

    /**
     * Binds libcrypto once per process and checks it on known values.
     *
     * @throws LinkageError when JNA or libcrypto (or its SHA256_* functions) cannot be loaded
     * @throws IllegalStateException when libcrypto's answer is wrong
     */
    static synchronized void bind() {
        if (bound) {
            return;
        }
        NativeCalls.register(Calls.class, LIBRARY_NAMES);
        selfTest();
        bound = true;
    }

    /** FIPS 180-2's "abc" and a value over several chunks and an odd split, against the JDK's. */
    private static void selfTest() {
        OpenSslSha256 abc = new OpenSslSha256();
        abc.update("abc".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        String expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        String got = HexFormat.of().formatHex(abc.digest());
        if (!got.equals(expected)) {
            throw new IllegalStateException("libcrypto's SHA-256 of \"abc\" is " + got + ", not " + expected);
        }
    }

    private void init() {
        if (Calls.SHA256_Init(context) != 1) {
            throw new IllegalStateException("libcrypto's SHA256_Init failed");
        }
    }

    @Override
    protected int engineGetDigestLength() {
        return LENGTH;
    }

    @Override
    protected void engineUpdate(byte input) {
        engineUpdate(new byte[] {input}, 0, 1);
    }

    @Override
    protected void engineUpdate(byte[] input, int offset, int length) {
        while (length > 0) {
            if (buffer == null || (buffer.size() < length && buffer.size() < CHUNK)) {
                buffer = new Memory(Math.min(CHUNK, Math.max(length, 256)));
            }
            int n = (int) Math.min(length, buffer.size());
            buffer.write(0, input, offset, n);
            if (Calls.SHA256_Update(context, buffer, n) != 1) {
                throw new IllegalStateException("libcrypto's SHA256_Update failed");
            }
            offset += n;
            length -= n;
        }
    }

    /**
     * A direct buffer's bytes are hashed where they are (its native address handed to libcrypto), not copied through
     * a Java array and {@link #buffer}: a file read into a direct buffer is hashed with no copy in Java at all.
     */
    @Override
    protected void engineUpdate(ByteBuffer input) {
        if (!input.isDirect()) {
            super.engineUpdate(input);
            return;
        }
        int length = input.remaining();
        if (length == 0) {
            return;
        }
        Pointer at = Native.getDirectBufferPointer(input).share(input.position());
        if (Calls.SHA256_Update(context, at, length) != 1) {
            throw new IllegalStateException("libcrypto's SHA256_Update failed");
        }
        input.position(input.limit());
    }

    @Override
    protected byte[] engineDigest() {
        byte[] digest = new byte[LENGTH];
        if (Calls.SHA256_Final(digest, context) != 1) {
            throw new IllegalStateException("libcrypto's SHA256_Final failed");
        }
        init(); // MessageDigest: digest() resets
        return digest;
    }

    @Override
    protected void engineReset() {
        init();
    }

    /** A digest that goes on from this one's state on its own context (not the one object's memory). */
    @Override
    public Object clone() throws CloneNotSupportedException {
        OpenSslSha256 copy = (OpenSslSha256) super.clone();
        copy.context = new Memory(CONTEXT_BYTES);
        copy.context.write(0, context.getByteArray(0, CONTEXT_BYTES), 0, CONTEXT_BYTES);
        copy.buffer = null;
        return copy;
    }

    /** The C functions (JNA direct mapping: registered natives, no proxy per call). */
    static final class Calls {
        private Calls() {}

        static native int SHA256_Init(Pointer context);

        static native int SHA256_Update(Pointer context, Pointer data, long length);

        static native int SHA256_Final(byte[] digest, Pointer context);
    }
}
