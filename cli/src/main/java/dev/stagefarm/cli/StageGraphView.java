package dev.stagefarm.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.stagefarm.dockerfile.graph.BuildPlan;
import dev.stagefarm.dockerfile.graph.Dependency;
import dev.stagefarm.dockerfile.graph.PlannedStage;
import dev.stagefarm.dockerfile.graph.StageBase;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders a build plan as text for people, Graphviz DOT, or the stable JSON for tools. */
final class StageGraphView {

  private final BuildPlan plan;

  StageGraphView(BuildPlan plan) {
    this.plan = plan;
  }

  /**
   * The stable JSON interface: {@code {"target": NAME, "stages": [{"index": N, "name":
   * NAME-or-null, "base": REF, "dependsOn": [NAMES-or-indexes], "status": "run"|"skipped"}]}}.
   * A stage is named by its {@code AS} name, or by its index when it has none.
   */
  String json() {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("target", reference(plan.target()));
    List<Map<String, Object>> stages = new ArrayList<>();
    for (PlannedStage stage : plan.stages()) {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("index", stage.index());
      s.put("name", stage.name().orElse(null));
      s.put("base", baseReference(stage.base()));
      s.put("dependsOn", stage.dependsOn().stream().map(i -> reference(plan.stage(i))).toList());
      s.put("status", status(stage));
      stages.add(s);
    }
    root.put("stages", stages);
    try {
      return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Readiness order first, then every stage with its base, edges and status. */
  String text(String fileName) {
    StringBuilder out = new StringBuilder();
    out.append(fileName)
        .append(": ")
        .append(plan.stages().size())
        .append(plan.stages().size() == 1 ? " stage" : " stages")
        .append(", target ")
        .append(plan.target().displayName())
        .append(", platform ")
        .append(plan.targetPlatform().format())
        .append("\n\nreadiness order (stages on one line can run in parallel):\n");
    List<List<PlannedStage>> waves = plan.readinessWaves();
    for (int i = 0; i < waves.size(); i++) {
      out.append("  ")
          .append(i + 1)
          .append(". ")
          .append(String.join(", ", waves.get(i).stream().map(PlannedStage::displayName).toList()))
          .append('\n');
    }
    out.append("\nstages:\n");
    int width =
        plan.stages().stream().mapToInt(s -> s.displayName().length()).max().orElse(0);
    for (PlannedStage stage : plan.stages()) {
      out.append(String.format(Locale.ROOT, "  #%-3d %-" + width + "s  %-7s  FROM %s",
          stage.index(), stage.displayName(), status(stage), baseText(stage)));
      List<String> needs = new ArrayList<>();
      for (Dependency dep : stage.dependencies()) {
        if (dep.kind() == Dependency.Kind.BASE) {
          continue;
        }
        String what = dep.isStage() ? plan.stage(dep.stageIndex()).displayName() : dep.image();
        String how = dep.kind() == Dependency.Kind.COPY_FROM ? "COPY --from" : "RUN --mount from";
        needs.add(how + " " + what + (dep.isStage() ? "" : " (image)") + " (line " + dep.line() + ")");
      }
      if (!needs.isEmpty()) {
        out.append("; ").append(String.join("; ", needs));
      }
      out.append('\n');
    }
    return out.toString();
  }

  /** Graphviz: an edge from each dependency to the stage that needs it; skipped stages dashed. */
  String dot() {
    StringBuilder out = new StringBuilder("digraph stages {\n  rankdir=LR;\n  node [shape=box];\n");
    Map<String, String> images = new LinkedHashMap<>();
    for (PlannedStage stage : plan.stages()) {
      out.append("  s")
          .append(stage.index())
          .append(" [label=")
          .append(quote(stage.index() + ": " + stage.displayName()))
          .append(stage.runs() ? "" : ", style=dashed, fontcolor=gray, color=gray")
          .append(stage.index() == plan.targetIndex() ? ", penwidth=2" : "")
          .append("];\n");
    }
    for (PlannedStage stage : plan.stages()) {
      String base = baseReference(stage.base()).toString();
      if (!(stage.base() instanceof StageBase.StageRef)) {
        String id = images.computeIfAbsent(base, b -> "i" + images.size());
        out.append("  ").append(id).append(" -> s").append(stage.index())
            .append(" [label=\"FROM\"];\n");
      }
      for (Dependency dep : stage.dependencies()) {
        String from = dep.isStage()
            ? "s" + dep.stageIndex()
            : images.computeIfAbsent(dep.image(), b -> "i" + images.size());
        String label = switch (dep.kind()) {
          case BASE -> "FROM";
          case COPY_FROM -> "COPY --from";
          case MOUNT_FROM -> "RUN --mount";
        };
        out.append("  ").append(from).append(" -> s").append(stage.index())
            .append(" [label=").append(quote(label)).append("];\n");
      }
    }
    images.forEach(
        (ref, id) ->
            out.append("  ").append(id).append(" [shape=ellipse, label=").append(quote(ref))
                .append("];\n"));
    return out.append("}\n").toString();
  }

  private static String status(PlannedStage stage) {
    return stage.runs() ? "run" : "skipped";
  }

  private Object reference(PlannedStage stage) {
    return stage.name().<Object>map(n -> n).orElse(stage.index());
  }

  private Object baseReference(StageBase base) {
    return switch (base) {
      case StageBase.Image image -> image.reference();
      case StageBase.Scratch scratch -> "scratch";
      case StageBase.StageRef ref -> reference(plan.stage(ref.index()));
    };
  }

  private String baseText(PlannedStage stage) {
    return switch (stage.base()) {
      case StageBase.Image image -> image.reference();
      case StageBase.Scratch scratch -> "scratch";
      case StageBase.StageRef ref -> plan.stage(ref.index()).displayName() + " (stage)";
    };
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
