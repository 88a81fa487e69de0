package dev.stagefarm.cli.build;

import dev.stagefarm.cli.ExitCodes;
import java.util.ArrayList;
import java.util.List;

/**
 * The CSV fields of a buildx flag value ({@code --secret}, {@code -o}, {@code --build-context}):
 * comma-separated, a field may be double-quoted to hold commas ({@code "name=a,b"}), {@code ""}
 * inside quotes is one quote — Go's encoding/csv, which buildx uses.
 */
public final class CsvFields {
  private CsvFields() {}

  /** @param flag the flag, for the error message */
  public static List<String> split(String flag, String text) {
    List<String> fields = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          field.append(c);
        }
      } else if (c == '"' && field.isEmpty()) {
        quoted = true;
      } else if (c == ',') {
        fields.add(field.toString());
        field.setLength(0);
      } else {
        field.append(c);
      }
    }
    if (quoted) {
      throw ExitCodes.usage(flag + " " + text + ": a quoted field is not closed");
    }
    fields.add(field.toString());
    return fields;
  }
}
