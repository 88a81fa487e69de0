package dev.stagefarm.program;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class RunOptionsTest {

  @Test
  void extraHostsTakeBuildxFormsIpv4AndIpv6() {
    assertThat(RunOptions.ExtraHost.parse("db.internal:10.1.2.3")).isEqualTo(new RunOptions.ExtraHost("db.internal", "10.1.2.3"));
    assertThat(RunOptions.ExtraHost.parse("db=10.1.2.3")).isEqualTo(new RunOptions.ExtraHost("db", "10.1.2.3"));
    assertThat(RunOptions.ExtraHost.parse("v6:::1")).isEqualTo(new RunOptions.ExtraHost("v6", "::1"));
    assertThat(RunOptions.ExtraHost.parse("v6:[fd00::1]")).isEqualTo(new RunOptions.ExtraHost("v6", "fd00::1"));
  }

  @Test
  void anExtraHostCannotAddLinesToEtcHostsNorNameAHostToLookUp() {
    // a newline would add an entry of the attacker's choosing for every other name
    assertThatThrownBy(() -> RunOptions.ExtraHost.parse("db:10.0.0.1\n6.6.6.6 registry.example"))
        .hasMessageContaining("invalid IP address \"10.0.0.1\\x0a6.6.6.6 registry.example\"");
    assertThatThrownBy(() -> RunOptions.ExtraHost.parse("db\tevil:10.0.0.1")).hasMessageContaining("invalid host name");
    assertThatThrownBy(() -> RunOptions.ExtraHost.parse("#db:10.0.0.1")).hasMessageContaining("invalid host name");
    // a name where the IP goes is never resolved
    assertThatThrownBy(() -> RunOptions.ExtraHost.parse("db:localhost")).hasMessageContaining("invalid IP address");
    assertThatThrownBy(() -> RunOptions.ExtraHost.parse("db:999.1.1.1")).hasMessageContaining("invalid IP address");
    assertThatThrownBy(() -> RunOptions.ExtraHost.parse("db:host-gateway")).hasMessageContaining("host-gateway is not supported");
    assertThatThrownBy(() -> RunOptions.ExtraHost.parse("10.0.0.1")).hasMessageContaining("HOST:IP");
  }

  @Test
  void ulimitsUseDockersNamesAndCheckTheirValues() {
    assertThat(RunOptions.Ulimit.parse("nofile=1024:2048")).isEqualTo(new RunOptions.Ulimit("nofile", 1024, 2048));
    assertThat(RunOptions.Ulimit.parse("core=0")).isEqualTo(new RunOptions.Ulimit("core", 0, 0));
    assertThat(RunOptions.Ulimit.parse("memlock=-1:-1")).isEqualTo(new RunOptions.Ulimit("memlock", -1, -1));
    assertThat(RunOptions.Ulimit.parse("nproc=10").rlimitType()).isEqualTo("RLIMIT_NPROC");
    assertThatThrownBy(() -> RunOptions.Ulimit.parse("nofiles=10")).hasMessageContaining("unknown ulimit \"nofiles\"");
    assertThatThrownBy(() -> RunOptions.Ulimit.parse("nofile=2:1")).hasMessageContaining("above the hard limit");
    assertThatThrownBy(() -> RunOptions.Ulimit.parse("nofile=-1:10")).hasMessageContaining("above the hard limit");
    assertThatThrownBy(() -> RunOptions.Ulimit.parse("nofile=-5")).hasMessageContaining("at least 0");
    assertThatThrownBy(() -> RunOptions.Ulimit.parse("nofile=many")).hasMessageContaining("is not a number");
    assertThatThrownBy(() -> RunOptions.Ulimit.parse("nofile=1:2:3")).hasMessageContaining("NAME=SOFT[:HARD]");
    assertThatThrownBy(() -> new RunOptions(List.of(), 0, List.of(RunOptions.Ulimit.parse("core=0"),
        RunOptions.Ulimit.parse("core=1")))).hasMessageContaining("given twice");
  }

  @Test
  void shmSizesAreDockersUnitsWithinTheLimit() {
    assertThat(RunOptions.parseSize("128m")).isEqualTo(128L << 20);
    assertThat(RunOptions.parseSize("1g")).isEqualTo(1L << 30);
    assertThat(RunOptions.parseSize("65536")).isEqualTo(65536);
    assertThat(RunOptions.parseSize("512MiB")).isEqualTo(512L << 20);
    assertThatThrownBy(() -> RunOptions.parseSize("1t")).hasMessageContaining("over the limit of 64g");
    assertThatThrownBy(() -> RunOptions.parseSize("lots")).hasMessageContaining("invalid size");
  }

  @Test
  void optionsAreBoundedInNumber() {
    List<RunOptions.ExtraHost> hosts = java.util.stream.IntStream.range(0, RunOptions.MAX_ENTRIES + 1)
        .mapToObj(i -> new RunOptions.ExtraHost("h" + i, "10.0.0.1")).toList();
    assertThatThrownBy(() -> new RunOptions(hosts, 0, List.of())).hasMessageContaining("at most 100 extra hosts");
  }

  @Test
  void optionsSurviveTheWireAndChangeTheKeyOnlyWhenSet() throws Exception {
    RunOptions options = new RunOptions(List.of(RunOptions.ExtraHost.parse("db:10.1.2.3")), 128L << 20,
        List.of(RunOptions.Ulimit.parse("nofile=1024:2048")));
    Op plain = run(RunOptions.NONE);
    Op withOptions = run(options);
    StageProgram program = Programs.program(List.of(withOptions));
    assertThat(ProgramCodec.fromProto(dev.stagefarm.proto.v1.StageProgram.parseFrom(
        ProgramCodec.toProto(program).toByteArray()))).isEqualTo(program);
    // unset options leave the op's bytes, hence every key compiled before them, as they were
    assertThat(ProgramCodec.toProto(plain).getExec().hasField(
        dev.stagefarm.proto.v1.ExecOp.getDescriptor().findFieldByNumber(9))).isFalse();
    assertThat(CacheKeys.next(Programs.IMAGE_KEY, withOptions, List.of()))
        .isNotEqualTo(CacheKeys.next(Programs.IMAGE_KEY, plain, List.of()));
    // a worker refuses what a client could not have sent
    var bad = ProgramCodec.toProto(program).toBuilder();
    bad.getOpsBuilder(0).getExecBuilder().getExtraHostsBuilder(0).setHost("db\n1.2.3.4 evil");
    assertThatThrownBy(() -> ProgramCodec.fromProto(bad.build()))
        .isInstanceOf(InvalidProgramException.class).hasMessageContaining("invalid host name");
  }

  private static Op run(RunOptions options) {
    return Op.of(new OpSource(2, "RUN true", "RUN"), "RUN /bin/sh -c true",
        new Action.Exec(List.of("/bin/sh", "-c", "true"), List.of(), "/", "", Action.Network.DEFAULT, false, List.of(),
            options));
  }
}
