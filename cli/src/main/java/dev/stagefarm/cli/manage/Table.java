package dev.stagefarm.cli.manage;

import java.io.PrintStream;
import java.util.List;

/** Rows printed in columns padded to their widest cell, as {@code docker} lists print. */
final class Table {
  private Table() {}

  static void print(List<String[]> rows, PrintStream out) {
    int columns = rows.getFirst().length;
    int[] widths = new int[columns];
    for (String[] row : rows) {
      for (int i = 0; i < columns; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < columns; i++) {
        line.append(row[i]);
        if (i < columns - 1) {
          line.append(" ".repeat(widths[i] - row[i].length() + 3));
        }
      }
      out.println(line);
    }
  }
}
