package dev.stagefarm.dockerfile.instructions;

import dev.stagefarm.dockerfile.shell.ShellLex;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The variables in scope while a stage executes, and the expansion of its instructions in order,
 * as BuildKit's dispatcher does it ({@code dispatch}, {@code dispatchEnv}, {@code dispatchArg}).
 *
 * <p>Start from the base image's config env (and, for a stage built on another stage, the ARG
 * values that stage had), then {@link #apply(Instruction)} each instruction in order: it returns
 * the instruction expanded with the variables in scope before it, and then records what it
 * declares. ENV changes both {@link #env()} and {@link #imageEnv()}; ARG changes only {@link
 * #env()}: ARG values are visible to expansions and RUN commands but are not stored in the image.
 *
 * <p>Not thread-safe: one scope per stage execution.
 */
public final class StageScope {

  /** BuildKit's default PATH for Linux, added when the base image sets none. */
  public static final String DEFAULT_PATH =
      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  // ARGs BuildKit reads itself and never exports as environment variables.
  private static final Set<String> NON_ENV_ARGS =
      Set.of("BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE");

  private final ShellLex lexer;
  private final Map<String, String> globalArgs;
  private final Map<String, String> buildArgs;
  private final Map<String, String> env = new LinkedHashMap<>();
  private final Map<String, String> imageEnv = new LinkedHashMap<>();
  private final Map<String, String> argValues = new LinkedHashMap<>();

  /**
   * @param lexer the lexer with the Dockerfile's escape token
   * @param baseEnv the base's config env ({@code NAME=value}); PATH is added when missing
   * @param inheritedArgs ARG values of the stage this one is built on (empty for an image base)
   * @param globalArgs the global scope: predefined platform ARGs and the ARGs before the first
   *     FROM, build-arg overrides applied (an {@code ARG NAME} without default takes its value)
   * @param buildArgs the user's {@code --build-arg} values (they override ARG defaults)
   */
  public StageScope(
      ShellLex lexer,
      List<String> baseEnv,
      Map<String, String> inheritedArgs,
      Map<String, String> globalArgs,
      Map<String, String> buildArgs) {
    this.lexer = lexer;
    this.globalArgs = Map.copyOf(globalArgs);
    this.buildArgs = Map.copyOf(buildArgs);
    imageEnv.putAll(ShellLex.envFromList(baseEnv));
    imageEnv.putIfAbsent("PATH", DEFAULT_PATH);
    env.putAll(imageEnv);
    inheritedArgs.forEach(this::setArg);
  }

  /**
   * Expands {@code instruction} with the variables in scope and records what it declares.
   *
   * @return the expanded instruction; for ARG, the definitions carry their resolved values
   *     (null for an ARG that has none)
   * @throws dev.stagefarm.dockerfile.DockerfileException when a word cannot be expanded
   */
  public Instruction apply(Instruction instruction) {
    if (instruction instanceof ArgInstruction arg) {
      return applyArg(arg);
    }
    Instruction expanded = instruction.expand(expander());
    if (expanded instanceof EnvInstruction envInstruction) {
      for (KeyValue pair : envInstruction.pairs()) {
        env.put(pair.key(), pair.value());
        imageEnv.put(pair.key(), pair.value());
      }
    }
    return expanded;
  }

  private ArgInstruction applyArg(ArgInstruction arg) {
    List<ArgDefinition> resolved =
        arg.args().stream()
            .map(
                definition -> {
                  String key = definition.key();
                  String value;
                  if (buildArgs.containsKey(key)) {
                    value = buildArgs.get(key);
                  } else if (definition.hasDefault()) {
                    value = expander().at(arg.origin()).word(definition.defaultValue());
                  } else {
                    value = globalArgs.get(key);
                  }
                  if (value != null) {
                    setArg(key, value);
                  }
                  return new ArgDefinition(key, value);
                })
            .toList();
    return new ArgInstruction(arg.origin(), resolved);
  }

  private void setArg(String key, String value) {
    argValues.put(key, value);
    if (!NON_ENV_ARGS.contains(key)) {
      env.put(key, value);
    }
  }

  /** An expander over the variables in scope now. */
  public WordExpander expander() {
    return new ShellWordExpander(lexer, env);
  }

  /** Every variable in scope: base env, ENV and ARG values; the environment of a RUN. */
  public Map<String, String> env() {
    return Map.copyOf(env);
  }

  /** {@link #env()} as {@code NAME=value} entries in declaration order. */
  public List<String> envList() {
    return entries(env);
  }

  /** The image config env: base env and ENV, without ARGs, in declaration order. */
  public List<String> imageEnv() {
    return entries(imageEnv);
  }

  /** The ARG values declared so far (including inherited ones), in declaration order. */
  public Map<String, String> argValues() {
    return new LinkedHashMap<>(argValues);
  }

  private static List<String> entries(Map<String, String> vars) {
    return vars.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
  }
}
