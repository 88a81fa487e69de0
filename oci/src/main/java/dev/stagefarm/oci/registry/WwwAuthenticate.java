package dev.stagefarm.oci.registry;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed {@code WWW-Authenticate} challenge, e.g.
 * {@code Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"}.
 *
 * @param scheme lowercased: {@code basic} or {@code bearer}
 * @param params parameter names lowercased, values unquoted
 */
public record WwwAuthenticate(String scheme, Map<String, String> params) {

    public WwwAuthenticate {
        params = Map.copyOf(params);
    }

    /** Parses the first challenge of a header value; empty when the value has no scheme. */
    public static Optional<WwwAuthenticate> parse(String header) {
        if (header == null || header.isBlank()) {
            return Optional.empty();
        }
        String value = header.trim();
        int space = value.indexOf(' ');
        String scheme = (space < 0 ? value : value.substring(0, space)).toLowerCase(Locale.ROOT);
        Map<String, String> params = new LinkedHashMap<>();
        int i = space < 0 ? value.length() : space + 1;
        while (i < value.length()) {
            while (i < value.length() && (value.charAt(i) == ' ' || value.charAt(i) == ',')) {
                i++;
            }
            int eq = value.indexOf('=', i);
            if (eq < 0) {
                break;
            }
            String name = value.substring(i, eq).trim().toLowerCase(Locale.ROOT);
            i = eq + 1;
            StringBuilder v = new StringBuilder();
            if (i < value.length() && value.charAt(i) == '"') {
                i++;
                while (i < value.length() && value.charAt(i) != '"') {
                    if (value.charAt(i) == '\\' && i + 1 < value.length()) {
                        i++;
                    }
                    v.append(value.charAt(i++));
                }
                i++; // closing quote
            } else {
                while (i < value.length() && value.charAt(i) != ',') {
                    v.append(value.charAt(i++));
                }
            }
            params.put(name, v.toString().trim());
        }
        return Optional.of(new WwwAuthenticate(scheme, params));
    }

    public Optional<String> param(String name) {
        return Optional.ofNullable(params.get(name));
    }
}
