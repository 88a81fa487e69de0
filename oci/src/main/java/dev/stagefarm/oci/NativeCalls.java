package dev.stagefarm.oci;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.util.List;

/** Binds a class's {@code native} methods to a C library through JNA's direct mapping (no proxy per call). */
public final class NativeCalls {
    private NativeCalls() {}

    /**
     * Registers the natives of {@code calls} with the first of {@code libraryNames} that loads (an unversioned name
     * needs the -dev package, a versioned one is what the runtime package installs).
     *
     * @throws LinkageError the last name's failure when none loads or one lacks a function, or when JNA is missing
     */
    public static void register(Class<?> calls, List<String> libraryNames) {
        LinkageError last = null;
        for (String name : libraryNames) {
            try {
                Native.register(calls, NativeLibrary.getInstance(name));
                return;
            } catch (LinkageError e) {
                last = e;
            }
        }
        throw last != null ? last : new UnsatisfiedLinkError("no library name given for " + calls.getName());
    }
}
