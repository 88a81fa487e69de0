package dev.stagefarm.dockerfile.instructions;

import dev.stagefarm.dockerfile.DockerfileException;
import dev.stagefarm.dockerfile.parser.Heredoc;
import dev.stagefarm.dockerfile.parser.Node;
import dev.stagefarm.dockerfile.parser.ParseResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Turns the parser's AST into typed instructions and stages, validating arguments and flags with
 * BuildKit's messages (BuildKit's {@code instructions/parse.go}). Every error is a {@link
 * DockerfileException} at the instruction's first line.
 */
public final class InstructionParser {

  private static final Pattern VALID_STAGE_NAME = Pattern.compile("^[a-z][a-z0-9-_.]*$");
  private static final Pattern ONBUILD_PREFIX = Pattern.compile("(?i)^\\s*ONBUILD\\s*");
  private static final Duration MINIMUM_DURATION = Duration.ofMillis(1);

  private InstructionParser() {}

  /**
   * Converts a parsed Dockerfile into global ARGs and stages.
   *
   * @throws DockerfileException for an unknown instruction, bad arguments or flags, or an
   *     instruction before the first FROM
   */
  public static DockerfileModel parse(ParseResult result) {
    List<ArgInstruction> metaArgs = new ArrayList<>();
    List<Stage> stages = new ArrayList<>();
    Stage from = null;
    List<Instruction> current = null;
    for (Node node : result.ast().children()) {
      if (keyword(node).equals("from")) {
        if (from != null) {
          stages.add(withInstructions(from, current));
        }
        from = parseFrom(node, stages.size());
        current = new ArrayList<>();
        continue;
      }
      Instruction instruction = parseInstruction(node);
      if (current == null) {
        if (instruction instanceof ArgInstruction arg) {
          metaArgs.add(arg);
          continue;
        }
        throw new DockerfileException(node.startLine(), "no build stage in current context");
      }
      current.add(instruction);
    }
    if (from != null) {
      stages.add(withInstructions(from, current));
    }
    return new DockerfileModel(metaArgs, stages, result.escapeToken(), result.warnings());
  }

  private static Stage withInstructions(Stage from, List<Instruction> instructions) {
    return new Stage(
        from.index(), from.name(), from.baseName(), from.platform(), from.origin(), instructions);
  }

  /**
   * Converts one instruction node (not FROM).
   *
   * @throws DockerfileException e.g. {@code unknown instruction: FRM}
   */
  public static Instruction parseInstruction(Node node) {
    Request req = new Request(node);
    try {
      return switch (keyword(node)) {
        case "env" -> parseEnv(req);
        case "maintainer" -> parseMaintainer(req);
        case "label" -> parseLabel(req);
        case "add" -> parseAdd(req);
        case "copy" -> parseCopy(req);
        case "onbuild" -> parseOnbuild(req);
        case "workdir" -> parseWorkdir(req);
        case "run" -> parseRun(req);
        case "cmd" -> parseCmd(req);
        case "healthcheck" -> parseHealthcheck(req);
        case "entrypoint" -> parseEntrypoint(req);
        case "expose" -> parseExpose(req);
        case "user" -> parseUser(req);
        case "volume" -> parseVolume(req);
        case "stopsignal" -> parseStopSignal(req);
        case "arg" -> parseArg(req);
        case "shell" -> parseShell(req);
        case "from" -> throw new IllegalArgumentException("FROM starts a stage, not an instruction");
        default -> throw new IllegalArgumentException("unknown instruction: " + node.value());
      };
    } catch (IllegalArgumentException e) {
      throw new DockerfileException(node.startLine(), e.getMessage(), e);
    }
  }

  /** Converts a FROM node into an (empty) stage. */
  static Stage parseFrom(Node node, int index) {
    Request req = new Request(node);
    try {
      String name = stageName(req.args);
      InstructionFlags.Flag platform = req.flags.addString("platform", "");
      req.flags.parse();
      return new Stage(
          index,
          name,
          req.args.get(0),
          platform.value().isEmpty() ? null : platform.value(),
          req.origin,
          List.of());
    } catch (IllegalArgumentException e) {
      throw new DockerfileException(node.startLine(), e.getMessage(), e);
    }
  }

  private static String stageName(List<String> args) {
    if (args.size() == 3 && args.get(1).equalsIgnoreCase("as")) {
      String name = args.get(2).toLowerCase(Locale.ROOT);
      if (!VALID_STAGE_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "invalid name for build stage: \""
                + args.get(2)
                + "\", name can't start with a number or contain symbols");
      }
      return name;
    }
    if (args.size() != 1) {
      throw new IllegalArgumentException("FROM requires either one or three arguments");
    }
    return null;
  }

  private static EnvInstruction parseEnv(Request req) {
    req.flags.parse();
    return new EnvInstruction(req.origin, keyValues(req.args, "ENV"));
  }

  private static LabelInstruction parseLabel(Request req) {
    req.flags.parse();
    return new LabelInstruction(req.origin, keyValues(req.args, "LABEL"));
  }

  /** The parser emits ENV/LABEL pairs as triples: key, value, and "=" or "" (legacy form). */
  private static List<KeyValue> keyValues(List<String> args, String command) {
    if (args.isEmpty()) {
      throw atLeastOneArgument(command);
    }
    if (args.size() % 3 != 0) {
      throw new IllegalArgumentException("Bad input to " + command + ", too many arguments");
    }
    List<KeyValue> pairs = new ArrayList<>();
    for (int i = 0; i < args.size(); i += 3) {
      if (args.get(i).isEmpty()) {
        throw blankNames(command);
      }
      pairs.add(new KeyValue(args.get(i), args.get(i + 1), args.get(i + 2).isEmpty()));
    }
    return pairs;
  }

  private static MaintainerInstruction parseMaintainer(Request req) {
    if (req.args.size() != 1) {
      throw exactlyOneArgument("MAINTAINER");
    }
    req.flags.parse();
    return new MaintainerInstruction(req.origin, req.args.get(0));
  }

  private static AddInstruction parseAdd(Request req) {
    if (req.args.size() < 2) {
      throw noDestination("ADD");
    }
    InstructionFlags.Flag excludes = req.flags.addStrings("exclude");
    InstructionFlags.Flag chown = req.flags.addString("chown", "");
    InstructionFlags.Flag chmod = req.flags.addString("chmod", "");
    InstructionFlags.Flag link = req.flags.addBool("link", false);
    InstructionFlags.Flag keepGitDir = req.flags.addBool("keep-git-dir", false);
    InstructionFlags.Flag checksum = req.flags.addString("checksum", "");
    InstructionFlags.Flag unpack = req.flags.addBool("unpack", false);
    req.flags.parse();
    return new AddInstruction(
        req.origin,
        SourcesAndDest.parse("ADD", req.args, req.heredocs),
        chown.value(),
        chmod.value(),
        link.isTrue(),
        keepGitDir.isUsed() ? keepGitDir.isTrue() : null,
        checksum.value(),
        excludes.values(),
        unpack.isUsed() ? unpack.isTrue() : null);
  }

  private static CopyInstruction parseCopy(Request req) {
    if (req.args.size() < 2) {
      throw noDestination("COPY");
    }
    InstructionFlags.Flag excludes = req.flags.addStrings("exclude");
    InstructionFlags.Flag parents = req.flags.addBool("parents", false);
    InstructionFlags.Flag chown = req.flags.addString("chown", "");
    InstructionFlags.Flag from = req.flags.addString("from", "");
    InstructionFlags.Flag chmod = req.flags.addString("chmod", "");
    InstructionFlags.Flag link = req.flags.addBool("link", false);
    req.flags.parse();
    return new CopyInstruction(
        req.origin,
        SourcesAndDest.parse("COPY", req.args, req.heredocs),
        from.value(),
        chown.value(),
        chmod.value(),
        link.isTrue(),
        parents.isTrue(),
        excludes.values());
  }

  private static OnbuildInstruction parseOnbuild(Request req) {
    if (req.args.isEmpty()) {
      throw atLeastOneArgument("ONBUILD");
    }
    req.flags.parse();
    String trigger = req.args.get(0).strip().toUpperCase(Locale.ROOT);
    switch (trigger) {
      case "ONBUILD" ->
          throw new IllegalArgumentException(
              "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      case "MAINTAINER", "FROM" ->
          throw new IllegalArgumentException(trigger + " isn't allowed as an ONBUILD trigger");
      default -> {}
    }
    StringBuilder expression =
        new StringBuilder(ONBUILD_PREFIX.matcher(req.node.original()).replaceFirst(""));
    for (Heredoc heredoc : req.heredocs) {
      expression.append('\n').append(heredoc.content()).append(heredoc.name());
    }
    return new OnbuildInstruction(req.origin, expression.toString());
  }

  private static WorkdirInstruction parseWorkdir(Request req) {
    if (req.args.size() != 1) {
      throw exactlyOneArgument("WORKDIR");
    }
    req.flags.parse();
    return new WorkdirInstruction(req.origin, req.args.get(0));
  }

  private static RunInstruction parseRun(Request req) {
    InstructionFlags.Flag mounts = req.flags.addStrings("mount");
    InstructionFlags.Flag network = req.flags.addString("network", "default");
    InstructionFlags.Flag security = req.flags.addString("security", "sandbox");
    req.flags.parse();
    CommandLine command = commandLine(req);
    List<String> specs = mounts.values();
    return new RunInstruction(
        req.origin,
        command,
        specs,
        RunInstruction.literalMounts(specs),
        NetworkMode.parse(network.value()),
        SecurityMode.parse(security.value()),
        req.flags.used());
  }

  private static CmdInstruction parseCmd(Request req) {
    req.flags.parse();
    return new CmdInstruction(req.origin, commandLine(req));
  }

  private static EntrypointInstruction parseEntrypoint(Request req) {
    req.flags.parse();
    return new EntrypointInstruction(req.origin, commandLine(req));
  }

  private static CommandLine commandLine(Request req) {
    List<InlineFile> files = req.heredocs.stream().map(InlineFile::of).toList();
    List<String> args = jsonArgs(req.args, req.json);
    return new CommandLine(args, !req.json, files);
  }

  /** BuildKit's {@code handleJSONArgs}: exec form as is, shell form joined into one string. */
  private static List<String> jsonArgs(List<String> args, boolean json) {
    if (args.isEmpty()) {
      return List.of();
    }
    return json ? args : List.of(String.join(" ", args));
  }

  private static HealthcheckInstruction parseHealthcheck(Request req) {
    if (req.args.isEmpty()) {
      throw atLeastOneArgument("HEALTHCHECK");
    }
    String type = req.args.get(0).toUpperCase(Locale.ROOT);
    List<String> args = req.args.subList(1, req.args.size());
    if (type.equals("NONE")) {
      if (!args.isEmpty()) {
        throw new IllegalArgumentException("HEALTHCHECK NONE takes no arguments");
      }
      return new HealthcheckInstruction(
          req.origin, List.of("NONE"), Duration.ZERO, Duration.ZERO, Duration.ZERO,
          Duration.ZERO, 0);
    }
    InstructionFlags.Flag interval = req.flags.addString("interval", "");
    InstructionFlags.Flag timeout = req.flags.addString("timeout", "");
    InstructionFlags.Flag startPeriod = req.flags.addString("start-period", "");
    InstructionFlags.Flag startInterval = req.flags.addString("start-interval", "");
    InstructionFlags.Flag retries = req.flags.addString("retries", "");
    req.flags.parse();
    if (!type.equals("CMD")) {
      throw new IllegalArgumentException(
          "Unknown type \"" + type + "\" in HEALTHCHECK (try CMD)");
    }
    List<String> command = jsonArgs(args, req.json);
    if (command.isEmpty()) {
      throw new IllegalArgumentException("Missing command after HEALTHCHECK CMD");
    }
    List<String> test = new ArrayList<>();
    test.add(req.json ? "CMD" : "CMD-SHELL");
    test.addAll(command);
    return new HealthcheckInstruction(
        req.origin,
        test,
        interval(interval),
        interval(timeout),
        interval(startPeriod),
        interval(startInterval),
        retries(retries.value()));
  }

  private static Duration interval(InstructionFlags.Flag flag) {
    if (flag.value().isEmpty()) {
      return Duration.ZERO;
    }
    Duration d = GoDuration.parse(flag.value());
    if (d.isZero()) {
      return d;
    }
    if (d.compareTo(MINIMUM_DURATION) < 0) {
      throw new IllegalArgumentException(
          "Interval \"" + flag.name() + "\" cannot be less than 1ms");
    }
    return d;
  }

  private static int retries(String value) {
    if (value.isEmpty()) {
      return 0;
    }
    long retries;
    try {
      retries = Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "strconv.ParseInt: parsing \"" + value + "\": invalid syntax");
    }
    if (retries < Integer.MIN_VALUE || retries > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "strconv.ParseInt: parsing \"" + value + "\": value out of range");
    }
    if (retries < 0) {
      throw new IllegalArgumentException("--retries cannot be negative (" + retries + ")");
    }
    return (int) retries;
  }

  private static ExposeInstruction parseExpose(Request req) {
    if (req.args.isEmpty()) {
      throw atLeastOneArgument("EXPOSE");
    }
    req.flags.parse();
    List<String> ports = new ArrayList<>(req.args);
    ports.sort(null);
    return new ExposeInstruction(req.origin, ports);
  }

  private static UserInstruction parseUser(Request req) {
    if (req.args.size() != 1) {
      throw exactlyOneArgument("USER");
    }
    req.flags.parse();
    return new UserInstruction(req.origin, req.args.get(0));
  }

  private static VolumeInstruction parseVolume(Request req) {
    if (req.args.isEmpty()) {
      throw atLeastOneArgument("VOLUME");
    }
    req.flags.parse();
    List<String> volumes = new ArrayList<>();
    for (String v : req.args) {
      String trimmed = v.strip();
      if (trimmed.isEmpty()) {
        throw new IllegalArgumentException("VOLUME specified can not be an empty string");
      }
      volumes.add(trimmed);
    }
    return new VolumeInstruction(req.origin, volumes);
  }

  private static StopSignalInstruction parseStopSignal(Request req) {
    // BuildKit does not parse flags for STOPSIGNAL.
    if (req.args.size() != 1) {
      throw exactlyOneArgument("STOPSIGNAL");
    }
    return new StopSignalInstruction(req.origin, req.args.get(0));
  }

  private static ArgInstruction parseArg(Request req) {
    // BuildKit does not parse flags for ARG.
    if (req.args.isEmpty()) {
      throw atLeastOneArgument("ARG");
    }
    List<ArgDefinition> args = new ArrayList<>();
    for (String arg : req.args) {
      int eq = arg.indexOf('=');
      if (eq < 0) {
        args.add(new ArgDefinition(arg, null));
        continue;
      }
      if (eq == 0) {
        throw blankNames("ARG");
      }
      args.add(new ArgDefinition(arg.substring(0, eq), arg.substring(eq + 1)));
    }
    return new ArgInstruction(req.origin, args);
  }

  private static ShellInstruction parseShell(Request req) {
    req.flags.parse();
    List<String> shell = jsonArgs(req.args, req.json);
    if (shell.isEmpty()) {
      throw atLeastOneArgument("SHELL");
    }
    if (!req.json) {
      throw new IllegalArgumentException("SHELL requires the arguments to be in JSON form");
    }
    return new ShellInstruction(req.origin, shell);
  }

  private static IllegalArgumentException atLeastOneArgument(String command) {
    return new IllegalArgumentException(command + " requires at least one argument");
  }

  private static IllegalArgumentException exactlyOneArgument(String command) {
    return new IllegalArgumentException(command + " requires exactly one argument");
  }

  private static IllegalArgumentException noDestination(String command) {
    return new IllegalArgumentException(
        command
            + " requires at least two arguments, but only one was provided. Destination could"
            + " not be determined");
  }

  private static IllegalArgumentException blankNames(String command) {
    return new IllegalArgumentException(command + " names can not be blank");
  }

  private static String keyword(Node node) {
    return node.value().toLowerCase(Locale.ROOT);
  }

  /** What every instruction parser reads from a node (BuildKit's {@code parseRequest}). */
  private static final class Request {
    final Node node;
    final List<String> args;
    final List<Heredoc> heredocs;
    final boolean json;
    final InstructionFlags flags;
    final Origin origin;

    Request(Node node) {
      this.node = node;
      this.args = nodeArgs(node);
      this.heredocs = node.heredocs();
      this.json = node.isJson();
      this.flags = new InstructionFlags(node.flags());
      this.origin =
          new Origin(node.value(), node.startLine(), node.endLine(), node.original().strip());
    }

    /** The argument chain as strings; ONBUILD's sub-instruction contributes keyword and args. */
    private static List<String> nodeArgs(Node node) {
      List<String> result = new ArrayList<>();
      for (Node arg = node.next(); arg != null; arg = arg.next()) {
        if (arg.children().isEmpty()) {
          result.add(arg.value());
        } else if (arg.children().size() == 1) {
          Node sub = arg.children().get(0);
          result.add(sub.value());
          result.addAll(nodeArgs(sub));
        }
      }
      return result;
    }
  }
}
