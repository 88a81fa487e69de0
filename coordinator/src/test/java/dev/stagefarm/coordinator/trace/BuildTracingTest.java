package dev.stagefarm.coordinator.trace;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.coordinator.content.StageResult;
import dev.stagefarm.coordinator.port.ProgramRef;
import dev.stagefarm.coordinator.port.StageJob;
import dev.stagefarm.coordinator.schedule.StageSnapshot;
import dev.stagefarm.coordinator.schedule.StageState;
import dev.stagefarm.coordinator.wire.TaskMessages;
import dev.stagefarm.oci.Platform;
import dev.stagefarm.program.CacheKey;
import dev.stagefarm.program.ProgramBase;
import dev.stagefarm.program.StageProgram;
import dev.stagefarm.proto.v1.BuildState;
import dev.stagefarm.proto.v1.StageTask;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.TracerProvider;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class BuildTracingTest {
  private final List<SpanData> ended = new CopyOnWriteArrayList<>();
  private final BuildTracing tracing = BuildTracing.with(openTelemetry(ended));

  @Test
  void aDispatchedTaskCarriesItsStageSpansContextUnderTheBuildSpan() {
    tracing.buildSubmitted("b1", "team-a", "", 1_000);
    tracing.planningStarted("b1");
    tracing.planningEnded("b1", BuildState.RUNNING);
    StageJob job = tracing.dispatched(job(), "team-a");
    tracing.stageChanged(snapshot(StageState.RUNNING, 1, "worker-7"), "team-a");
    tracing.stageChanged(snapshot(StageState.DONE, 1, "worker-7"), "team-a");
    tracing.buildFinished("b1", BuildState.SUCCEEDED);

    SpanData build = span("build");
    SpanData stage = span("stage");
    StageTask task = TaskMessages.toProto(job);
    assertThat(task.getTraceParent())
        .startsWith("00-" + stage.getTraceId() + "-" + stage.getSpanId() + "-"); // then the flags: sampled, …
    assertThat(stage.getParentSpanId()).isEqualTo(build.getSpanId());
    assertThat(span("planning").getParentSpanId()).isEqualTo(build.getSpanId());
    assertThat(span("stage.queue").getParentSpanId()).isEqualTo(stage.getSpanId());
    assertThat(span("stage.run").getParentSpanId()).isEqualTo(stage.getSpanId());
    assertThat(stage.getAttributes().get(BuildTracing.STAGE_INDEX)).isZero();
    assertThat(stage.getAttributes().get(BuildTracing.WORKER_ID)).isEqualTo("worker-7");
    assertThat(stage.getAttributes().get(BuildTracing.TENANT)).isEqualTo("team-a");
    assertThat(build.getAttributes().get(BuildTracing.STATE)).isEqualTo("succeeded");
    assertThat(tracing.openSpans()).isZero();
  }

  @Test
  void aRetryEndsTheEarlierAttemptsSpanAndAFailedBuildEndsWhatIsOpen() {
    tracing.buildSubmitted("b1", "t", "", 1_000);
    StageJob first = tracing.dispatched(job(), "t");
    StageJob second = tracing.dispatched(withAttempt(job(), 2), "t");
    tracing.buildFinished("b1", BuildState.FAILED);

    assertThat(ended.stream().filter(s -> s.getName().equals("stage")).map(s -> s.getStatus().getStatusCode()))
        .containsExactly(StatusCode.ERROR, StatusCode.ERROR);
    assertThat(first.trace().parent()).isNotEqualTo(second.trace().parent());
    assertThat(span("build").getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(tracing.openSpans()).isZero();
  }

  @Test
  void aStageCachedAtPlanningIsACacheHitSpan() {
    tracing.buildSubmitted("b1", "t", "", 1_000);
    tracing.stageChanged(snapshot(StageState.CACHED, 0, ""), "t");

    assertThat(span("stage").getAttributes().get(BuildTracing.CACHE_HIT)).isTrue();
  }

  @Test
  void offRecordsNothingAndLeavesTasksWithoutContext() {
    BuildTracing off = BuildTracing.none();
    off.buildSubmitted("b1", "t", "", 1_000);
    StageJob job = job();

    assertThat(off.dispatched(job, "t")).isSameAs(job);
    assertThat(TaskMessages.toProto(job).getTraceParent()).isEmpty();
    assertThat(off.openSpans()).isZero();
  }

  @Test
  void stageIndexComesFromTheStageId() {
    assertThat(BuildTracing.stageIndex("12-build")).isEqualTo(12);
    assertThat(BuildTracing.stageIndex("build")).isEqualTo(-1);
  }

  private static final StageProgram PROGRAM = new StageProgram(StageProgram.VERSION, new ProgramBase.Scratch(),
      List.of(), List.of(), Platform.LINUX_AMD64, new CacheKey("0".repeat(64)), Optional.empty(), "build");

  private static StageJob job() {
    return new StageJob("b1", "0-build", "build", 1, true, new ProgramRef.Inline(PROGRAM),
        new StageResult(List.of(), new byte[0], "scratch"), Map.of());
  }

  private SpanData span(String name) {
    return ended.stream().filter(s -> s.getName().equals(name)).findFirst().orElseThrow();
  }

  private static StageSnapshot snapshot(StageState state, int attempt, String worker) {
    return new StageSnapshot("b1", "0-build", "build", state, attempt, worker, 0, 0);
  }

  private static StageJob withAttempt(StageJob job, int attempt) {
    return new StageJob(job.buildId(), job.stageId(), job.stageName(), attempt, job.reuseCachedOps(), job.program(),
        job.base(), job.inputs(), job.buildSecrets(), job.deadline(), job.internalLayers(), job.cacheScope());
  }

  private static OpenTelemetry openTelemetry(List<SpanData> ended) {
    SpanExporter exporter = new SpanExporter() {
      @Override
      public CompletableResultCode export(Collection<SpanData> spans) {
        ended.addAll(spans);
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
      }

      @Override
      public CompletableResultCode shutdown() {
        return CompletableResultCode.ofSuccess();
      }
    };
    SdkTracerProvider provider = SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter))
        .build();
    return new OpenTelemetry() {
      @Override
      public TracerProvider getTracerProvider() {
        return provider;
      }

      @Override
      public ContextPropagators getPropagators() {
        return ContextPropagators.noop();
      }
    };
  }
}
