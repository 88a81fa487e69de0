package dev.stagefarm.oci;

/** A string that should have been a content digest is not one; the message quotes the offending text. */
public final class InvalidDigestException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String input;

    public InvalidDigestException(String input, String reason) {
        super("invalid digest '" + abbreviate(input) + "': " + reason);
        this.input = input;
    }

    /** The text that failed to parse, as given. */
    public String input() {
        return input;
    }

    private static String abbreviate(String s) {
        if (s == null) {
            return "null";
        }
        return s.length() <= 100 ? s : s.substring(0, 100) + "…";
    }
}
