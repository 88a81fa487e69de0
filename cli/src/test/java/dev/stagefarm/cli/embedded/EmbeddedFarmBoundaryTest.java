package dev.stagefarm.cli.embedded;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import dev.stagefarm.cli.farm.EmbeddedFarm;
import dev.stagefarm.cli.farm.EmbeddedFarmSupport;
import dev.stagefarm.cli.farm.LocalFarmDaemon;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/**
 * The module boundary that lets the thin client distribution run without module {@code embedded}:
 * the CLI reaches the in-JVM broker and S3 server only through {@link EmbeddedFarmSupport}, whose
 * implementation {@link ServiceLoader} finds. A class that named them directly would fail with a
 * {@code NoClassDefFoundError} in the thin distribution (picocli reflects over every command).
 */
class EmbeddedFarmBoundaryTest {
  private static final JavaClasses CLI = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("dev.stagefarm.cli");

  /** The embedded farm: the classes that may name module {@code embedded}. */
  private static final DescribedPredicate<JavaClass> EMBEDDED_FARM =
      resideInAPackage("dev.stagefarm.cli.embedded..")
          .or(belongToAnyOf(EmbeddedFarm.class, LocalFarmDaemon.class))
          .as("the embedded farm (dev.stagefarm.cli.embedded, EmbeddedFarm, LocalFarmDaemon)");

  @Test
  void onlyTheEmbeddedFarmNamesModuleEmbedded() {
    noClasses().that(not(EMBEDDED_FARM))
        .should().dependOnClassesThat(resideInAPackage("dev.stagefarm.embedded.."))
        .check(CLI);
  }

  @Test
  void theRestOfTheCliReachesTheEmbeddedFarmOnlyThroughItsServiceInterface() {
    noClasses().that(not(EMBEDDED_FARM))
        .should().dependOnClassesThat(EMBEDDED_FARM)
        .check(CLI);
  }

  @Test
  void theFullDistributionFindsTheEmbeddedFarm() {
    assertThat(EmbeddedFarmSupport.available()).isTrue();
    assertThat(EmbeddedFarmSupport.require("stagefarm up")).isInstanceOf(EmbeddedFarmProvider.class);
  }
}
