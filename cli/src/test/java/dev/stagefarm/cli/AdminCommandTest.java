package dev.stagefarm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.stagefarm.program.FarmKeys;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminCommandTest {
  @TempDir Path dir;

  @Test
  void kafkaAclsPrintsEachRolesGrantsWithoutTouchingKafka() {
    CliRun run = CliRun.of("admin", "kafka-acls", "--worker-principal", "User:builder");

    assertThat(run.exitCode()).isZero();
    assertThat(run.stdout()).contains("User:builder", "READ", "TOPIC stagefarm.tasks", "GROUP stagefarm-workers")
        .contains("User:coordinator", "WRITE", "GROUP stagefarm-coordinator*");
    assertThat(run.stdout().lines().filter(l -> l.startsWith("User:builder") && l.contains("WRITE")))
        .singleElement().asString().contains("TOPIC stagefarm.events");
  }

  @Test
  void kafkaAclsRefusesOnePrincipalForBothRolesAndApplyWithoutACluster() {
    CliRun same = CliRun.of("admin", "kafka-acls", "--coordinator-principal", "User:farm", "--worker-principal",
        "User:farm");
    assertThat(same.exitCode()).isEqualTo(1);
    assertThat(same.stderr()).contains("need different principals");
    CliRun apply = CliRun.of("admin", "kafka-acls", "--apply");
    assertThat(apply.exitCode()).isEqualTo(1);
    assertThat(apply.stderr()).contains("--apply needs --kafka");
  }

  @Test
  void kafkaPropertiesWithAnUnknownKeyIsOneLineNamingIt() throws Exception {
    Path props = Files.writeString(dir.resolve("admin.properties"), "security.protocol=SASL_SSL\nacks=0\n");
    CliRun run = CliRun.of("admin", "kafka-acls", "--apply", "--kafka", "127.0.0.1:1", "--kafka-properties",
        props.toString());
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.stderr()).contains("'acks' is not a Kafka client security setting").doesNotContain("Exception");
  }

  @Test
  void farmKeysWritesOwnerOnlyRoleKeyFilesAndNeverOverwritesThem() throws Exception {
    CliRun run = CliRun.of("admin", "farm-keys", "--out", dir.toString());

    assertThat(run.exitCode()).isZero();
    FarmKeys.load(dir.resolve("coordinator.key")).requireFor(FarmKeys.Part.COORDINATOR);
    FarmKeys.load(dir.resolve("worker.key")).requireFor(FarmKeys.Part.WORKER);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("worker.key"))))
        .isEqualTo("rw-------");
    String before = Files.readString(dir.resolve("coordinator.key"));
    CliRun again = CliRun.of("admin", "farm-keys", "--out", dir.toString());
    assertThat(again.exitCode()).isEqualTo(1);
    assertThat(again.stderr()).contains("exists");
    assertThat(Files.readString(dir.resolve("coordinator.key"))).isEqualTo(before);
  }
}
