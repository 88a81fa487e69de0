package dev.stagefarm.oci.image;

/** A manifest, index or config document is not valid JSON of the expected shape; the message says which. */
public final class ImageFormatException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ImageFormatException(String message) {
        super(message);
    }

    public ImageFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
