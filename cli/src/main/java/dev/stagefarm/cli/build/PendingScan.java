package dev.stagefarm.cli.build;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * A build context's scan ({@link ContextScanner#scan}) on a thread of its own, while the one-shot farm starts on the
 * caller's: the scan needs no farm, and the farm's start is ~0.1 s of a warm one-shot's critical path
 * (bench/README.md, "Session 13 (issue 12): the one-shot's fixed cost"). {@link #join} returns what the scan returned
 * or throws what it threw, as an inline scan would, at the point where the caller would have scanned.
 */
public final class PendingScan {
  private final CompletableFuture<ScannedContext> scan;

  private PendingScan(CompletableFuture<ScannedContext> scan) {
    this.scan = scan;
  }

  /** Starts scanning {@code contextDir} with the stat cache {@code cache} gives (loaded on the scan's thread too). */
  public static PendingScan start(Path contextDir, Supplier<StatCache> cache) {
    CompletableFuture<ScannedContext> scan = new CompletableFuture<>();
    // a daemon: a run that ends before joining (the farm failed to start, Ctrl-C) does not wait for it
    Thread.ofPlatform().daemon().name("stagefarm-context-scan").start(() -> {
      try {
        scan.complete(ContextScanner.scan(contextDir, cache.get()));
      } catch (Throwable e) {
        scan.completeExceptionally(e);
      }
    });
    return new PendingScan(scan);
  }

  /** The scan's result; its failure as it was thrown (an {@link IOException}, a {@code UserError}, …). */
  public ScannedContext join() throws IOException {
    try {
      return scan.join();
    } catch (CompletionException e) {
      switch (e.getCause()) {
        case IOException io -> throw io;
        case RuntimeException r -> throw r;
        case Error err -> throw err;
        default -> throw e;
      }
    }
  }
}
