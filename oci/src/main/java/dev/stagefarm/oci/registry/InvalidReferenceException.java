package dev.stagefarm.oci.registry;

/** A string is not a valid image reference; the message quotes it and says why. */
public final class InvalidReferenceException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public InvalidReferenceException(String input, String reason) {
        super("invalid image reference '" + input + "': " + reason);
    }
}
