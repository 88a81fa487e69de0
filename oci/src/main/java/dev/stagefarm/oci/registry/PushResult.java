package dev.stagefarm.oci.registry;

/** What pushing one blob took. */
public enum PushResult {
    /** The repository already had it (HEAD): nothing sent. */
    ALREADY_PRESENT,
    /** The registry linked it from another repository: nothing sent. */
    MOUNTED,
    /** The bytes were uploaded. */
    UPLOADED
}
