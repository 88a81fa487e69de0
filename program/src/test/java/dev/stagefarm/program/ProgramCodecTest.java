package dev.stagefarm.program;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.proto.v1.ContextEntry;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class ProgramCodecTest {

  @Test
  void everyKindOfOpSurvivesTheWire() throws Exception {
    StageProgram program = Programs.everything();

    StageProgram decoded = ProgramCodec.fromProto(
        dev.stagefarm.proto.v1.StageProgram.parseFrom(ProgramCodec.toProto(program).toByteArray()));

    assertThat(decoded).isEqualTo(program);
  }

  @Test
  void sourceDateEpochAndOtherBasesSurviveTheWire() throws Exception {
    StageProgram program = new StageProgram(1, new ProgramBase.Stage("1-build"), java.util.List.of(),
        java.util.List.of(Programs.env()), dev.stagefarm.oci.Platform.LINUX_ARM64, Programs.BUILD_KEY,
        Optional.of(Instant.ofEpochSecond(0)), "next");

    assertThat(ProgramCodec.fromProto(ProgramCodec.toProto(program))).isEqualTo(program);
    StageProgram scratch = new StageProgram(1, new ProgramBase.Scratch(), java.util.List.of(), java.util.List.of(),
        dev.stagefarm.oci.Platform.LINUX_AMD64, Programs.BUILD_KEY, Optional.empty(), "s");
    assertThat(ProgramCodec.fromProto(ProgramCodec.toProto(scratch))).isEqualTo(scratch);
  }

  @Test
  void aNewerProgramVersionIsRefusedNamingIt() {
    assertThatThrownBy(() -> decode(p -> p.setVersion(StageProgram.VERSION + 1)))
        .isInstanceOf(InvalidProgramException.class)
        .hasMessageContaining("program version 2");
  }

  @Test
  void anOpReadingAnUndeclaredInputIsRefused() {
    assertThatThrownBy(() -> decode(p -> p.clearInputs().addInputs(dev.stagefarm.proto.v1.ProgramInput.newBuilder()
            .setId(Programs.ALPINE.id()).setKey(Programs.IMAGE_KEY.hex()))))
        .isInstanceOf(InvalidProgramException.class)
        .hasMessageContaining("op 3 (line 4)")
        .hasMessageContaining("stage:1-build");
  }

  @Test
  void contextEntriesThatClimbOutOrRepeatAreRefused() {
    for (String hostile : new String[] {"../etc/passwd", "/etc/passwd", "a/../../b", "a//b", "./a"}) {
      assertThatThrownBy(() -> decode(p -> p.getOpsBuilder(2).getCopyBuilder().getSourcesBuilder(0)
              .getContextBuilder().addEntries(ContextEntry.newBuilder().setPath(hostile)
                  .setType(ContextEntry.Type.DIRECTORY))))
          .as(hostile)
          .isInstanceOf(InvalidProgramException.class)
          .hasMessageContaining("not a clean relative path");
    }
    assertThatThrownBy(() -> decode(p -> p.getOpsBuilder(2).getCopyBuilder().getSourcesBuilder(0)
            .getContextBuilder().addEntries(ContextEntry.newBuilder().setPath("main.go")
                .setType(ContextEntry.Type.DIRECTORY))))
        .hasMessageContaining("appears twice");
  }

  @Test
  void relativeContainerPathsAndBadFileNamesAreRefused() {
    assertThatThrownBy(() -> decode(p -> p.getOpsBuilder(2).getCopyBuilder().setDest("src/")))
        .hasMessageContaining("destination \"src/\" is not an absolute path");
    assertThatThrownBy(() -> decode(p -> p.getOpsBuilder(4).getExecBuilder().setCwd("")))
        .hasMessageContaining("working dir \"\" is not an absolute path");
    assertThatThrownBy(() -> decode(p -> p.getOpsBuilder(5).getCopyBuilder().getSourcesBuilder(0)
            .getInlineBuilder().setName("../x")))
        .hasMessageContaining("not a plain file name");
    assertThatThrownBy(() -> decode(p -> p.getOpsBuilder(2).getCopyBuilder().getSourcesBuilder(0)
            .getContextBuilder().getEntriesBuilder(1).setDigest("md5:1")))
        .hasMessageContaining("no valid digest");
  }

  @Test
  void aSymbolicChmodSurvivesTheWireAndIsPartOfTheKey() throws Exception {
    Action.Copy octal = (Action.Copy) Programs.copyApp(0, 3).action().orElseThrow();
    Action.Copy symbolic = new Action.Copy(octal.sources(), octal.dest(), octal.destIsDir(), "", OptionalInt.empty(),
        List.of(), false, false, Action.Unpack.NEVER, Optional.of(SymbolicMode.parse("u=rwX,go=rX")));
    Op op = Op.of(new OpSource(3, "COPY --chmod=u=rwX,go=rX app /src/", "COPY"), "", symbolic);
    StageProgram program = Programs.program(List.of(op));

    assertThat(ProgramCodec.fromProto(ProgramCodec.toProto(program))).isEqualTo(program);
    assertThat(ProgramCodec.toProto(op).getCopy().getChmodSymbolic()).isEqualTo("u=rwX,go=rX");
    CacheKey root = new CacheKey("e".repeat(64));
    assertThat(CacheKeys.next(root, op, program.inputs()))
        .isNotEqualTo(CacheKeys.next(root, Op.of(op.source(), "", octal), program.inputs()));
  }

  @Test
  void aBadSymbolicChmodOrTwoChmodsAreRefused() {
    assertThatThrownBy(() -> decode(p -> p.getOpsBuilder(2).getCopyBuilder().setChmodSymbolic("u+q")))
        .isInstanceOf(InvalidProgramException.class)
        .hasMessageContaining("--chmod=u+q: invalid syntax");
    assertThatThrownBy(() -> decode(p -> p.getOpsBuilder(3).getCopyBuilder().setChmodSymbolic("u+x")))
        .isInstanceOf(InvalidProgramException.class)
        .hasMessageContaining("both an octal and a symbolic --chmod");
  }

  @Test
  void anInlineMountSurvivesTheWireAndBadFilesAreRefused() throws Exception {
    Mount.Inline pipes = new Mount.Inline("/dev/pipes", List.of(new CopySource.Inline("EOF",
        "#!/bin/sh\necho hi\n".getBytes(java.nio.charset.StandardCharsets.UTF_8))), 0755);
    Op op = Op.of(new OpSource(2, "RUN <<EOF", "RUN"), "RUN /bin/sh -c /dev/pipes/EOF",
        new Action.Exec(List.of("/bin/sh", "-c", "/dev/pipes/EOF"), List.of(), "/", "", Action.Network.DEFAULT,
            false, List.of(pipes)));
    StageProgram program = Programs.program(List.of(op));
    assertThat(ProgramCodec.fromProto(dev.stagefarm.proto.v1.StageProgram.parseFrom(
        ProgramCodec.toProto(program).toByteArray()))).isEqualTo(program);

    for (var bad : List.<Consumer<dev.stagefarm.proto.v1.InlineMount.Builder>>of(
        m -> m.getFilesBuilder(0).setName("../x"), m -> m.getFilesBuilder(0).setName(""), m -> m.setMode(010000),
        m -> m.clearFiles())) {
      var proto = ProgramCodec.toProto(program).toBuilder();
      bad.accept(proto.getOpsBuilder(0).getExecBuilder().getMountsBuilder(0).getInlineBuilder());
      assertThatThrownBy(() -> ProgramCodec.fromProto(proto.build())).isInstanceOf(InvalidProgramException.class);
    }
    var twice = ProgramCodec.toProto(program).toBuilder();
    var inline = twice.getOpsBuilder(0).getExecBuilder().getMountsBuilder(0).getInlineBuilder();
    inline.addFiles(inline.getFiles(0));
    assertThatThrownBy(() -> ProgramCodec.fromProto(twice.build())).hasMessageContaining("appears twice");
    var relative = ProgramCodec.toProto(program).toBuilder();
    relative.getOpsBuilder(0).getExecBuilder().getMountsBuilder(0).setTarget("dev/pipes");
    assertThatThrownBy(() -> ProgramCodec.fromProto(relative.build())).hasMessageContaining("not an absolute path");
  }

  @Test
  void aMalformedRootKeyIsRefused() {
    assertThatThrownBy(() -> decode(p -> p.setRootKey("E".repeat(64))))
        .hasMessageContaining("root key is not a cache key");
  }

  private static StageProgram decode(Consumer<dev.stagefarm.proto.v1.StageProgram.Builder> change)
      throws InvalidProgramException {
    var proto = ProgramCodec.toProto(Programs.everything()).toBuilder();
    change.accept(proto);
    return ProgramCodec.fromProto(proto.build());
  }
}
