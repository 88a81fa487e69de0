package dev.stagefarm.oci.registry;

import java.io.IOException;
import java.util.List;

/**
 * A registry request failed. The message names the operation, the image or blob, the registry, the HTTP status and
 * the registry's error codes (e.g. {@code MANIFEST_UNKNOWN}, {@code UNAUTHORIZED}).
 */
public class RegistryException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final List<String> errorCodes;

    public RegistryException(String message, int status, List<String> errorCodes, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.errorCodes = List.copyOf(errorCodes);
    }

    public RegistryException(String message, Throwable cause) {
        this(message, 0, List.of(), cause);
    }

    /** The HTTP status, or 0 when no response came. */
    public int status() {
        return status;
    }

    /** The distribution-spec error codes in the response body. */
    public List<String> errorCodes() {
        return errorCodes;
    }

    /** The registry does not have the manifest or blob asked for. */
    public boolean notFound() {
        return status == 404;
    }

    /** The registry refused the credentials (or their absence). */
    public boolean unauthorized() {
        return status == 401 || status == 403;
    }
}
