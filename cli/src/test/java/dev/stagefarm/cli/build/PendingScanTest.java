package dev.stagefarm.cli.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.stagefarm.cli.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one-shot's context scan on a thread of its own: the inline scan's result, its failure as it was thrown. */
class PendingScanTest {

  @Test
  void joinGivesWhatAnInlineScanGivesAndScansOffTheCallersThread(@TempDir Path dir) throws Exception {
    Path ctx = Files.createDirectories(dir.resolve("ctx"));
    Files.writeString(ctx.resolve("Dockerfile"), "FROM scratch\nCOPY a /\n");
    Files.writeString(ctx.resolve("a"), "a file");
    Files.writeString(ctx.resolve(".dockerignore"), "ignored\n");
    Files.writeString(ctx.resolve("ignored"), "not sent");
    AtomicReference<Thread> loadedOn = new AtomicReference<>();

    ScannedContext ahead = PendingScan.start(ctx, () -> {
      loadedOn.set(Thread.currentThread());
      return StatCache.load(dir.resolve("cache"), ctx);
    }).join();

    ScannedContext inline = ContextScanner.scan(ctx);
    assertThat(ahead.manifest()).isEqualTo(inline.manifest());
    assertThat(ahead.manifestDigest()).isEqualTo(inline.manifestDigest());
    assertThat(ahead.files()).isEqualTo(inline.files());
    assertThat(loadedOn.get()).isNotSameAs(Thread.currentThread());
    assertThat(loadedOn.get().isDaemon()).as("never keeps the JVM alive").isTrue();
  }

  @Test
  void aFailedScanThrowsAtTheJoinWhatTheInlineScanThrows(@TempDir Path dir) throws Exception {
    Path notADirectory = Files.writeString(dir.resolve("file"), "x");
    PendingScan pending = PendingScan.start(notADirectory, StatCache::none);

    assertThatThrownBy(pending::join).isInstanceOf(UserError.class)
        .hasMessage("build context " + notADirectory + " is not a directory");
    assertThatThrownBy(() -> ContextScanner.scan(notADirectory)).isInstanceOf(UserError.class)
        .hasMessage("build context " + notADirectory + " is not a directory");
  }

  @Test
  void aFailureOfTheStatCachesLoadIsThrownAtTheJoin(@TempDir Path dir) {
    PendingScan pending = PendingScan.start(dir, () -> {
      throw new IllegalStateException("the stat cache could not be read");
    });

    assertThatThrownBy(pending::join).isInstanceOf(IllegalStateException.class)
        .hasMessage("the stat cache could not be read");
  }
}
