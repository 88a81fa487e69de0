package dev.stagefarm.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.parser.Directive;
import dev.stagefarm.dockerfile.parser.DockerfileParser;
import dev.stagefarm.dockerfile.parser.Heredoc;
import dev.stagefarm.dockerfile.parser.Node;
import dev.stagefarm.dockerfile.parser.ParseResult;
import dev.stagefarm.dockerfile.parser.Warning;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code stagefarm parse}: prints a Dockerfile's syntax tree. {@code --format dump} is BuildKit's
 * {@code Node.Dump()} format byte for byte (its parser test data); {@code --format json} is the
 * same tree with flags, line ranges, heredocs and directives.
 */
@Command(
    name = "parse",
    mixinStandardHelpOptions = true,
    description = "Print a Dockerfile's syntax tree (BuildKit's AST).")
final class ParseCommand implements Callable<Integer> {

  enum Format {
    dump,
    json
  }

  @Mixin DockerfileSource source;

  @Option(
      names = "--format",
      defaultValue = "dump",
      description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  Format format;

  @Override
  public Integer call() throws Exception {
    ParseResult result;
    try {
      result = DockerfileParser.parse(source.read());
    } catch (DockerfileException e) {
      throw source.describe(e);
    }
    String text =
        switch (format) {
          case dump -> result.ast().dump() + "\n";
          case json -> json(result) + "\n";
        };
    // Raw UTF-8: the dump must match BuildKit's byte for byte whatever the platform charset.
    Utf8Stdout.print(text);
    return 0;
  }

  private static String json(ParseResult result) throws JsonProcessingException {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("escapeToken", String.valueOf(result.escapeToken()));
    Map<String, String> directives = new LinkedHashMap<>();
    for (Directive d : result.directives().all()) {
      directives.put(d.name(), d.value());
    }
    root.put("directives", directives);
    List<Map<String, Object>> warnings = new ArrayList<>();
    for (Warning w : result.warnings()) {
      Map<String, Object> warning = new LinkedHashMap<>();
      warning.put("message", w.shortMessage());
      warning.put("detail", w.detail());
      warning.put("startLine", w.startLine());
      warning.put("endLine", w.endLine());
      warnings.add(warning);
    }
    root.put("warnings", warnings);
    root.put("instructions", result.ast().children().stream().map(ParseCommand::node).toList());
    return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(root);
  }

  private static Map<String, Object> node(Node node) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("keyword", node.value());
    out.put("flags", node.flags());
    out.put("json", node.isJson());
    out.put("startLine", node.startLine());
    out.put("endLine", node.endLine());
    out.put("original", node.original());
    List<String> args = new ArrayList<>();
    for (Node arg = node.next(); arg != null; arg = arg.next()) {
      if (arg.children().isEmpty()) {
        args.add(arg.value());
      } else {
        // ONBUILD: the argument is the trigger instruction.
        out.put("trigger", node(arg.children().get(0)));
      }
    }
    out.put("args", args);
    List<Map<String, Object>> heredocs = new ArrayList<>();
    for (Heredoc h : node.heredocs()) {
      Map<String, Object> heredoc = new LinkedHashMap<>();
      heredoc.put("name", h.name());
      heredoc.put("content", h.content());
      heredoc.put("expand", h.expand());
      heredoc.put("chomp", h.chomp());
      heredoc.put("fileDescriptor", h.fileDescriptor());
      heredocs.add(heredoc);
    }
    out.put("heredocs", heredocs);
    return out;
  }
}
