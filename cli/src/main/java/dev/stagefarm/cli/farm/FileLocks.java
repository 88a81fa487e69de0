package dev.stagefarm.cli.farm;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/** Exclusive locks on files that live as long as their holder's channel (or process): a killed holder frees them. */
final class FileLocks {
  private FileLocks() {}

  /** The lock on {@code file} (created if missing), held until the returned channel is closed; empty when held. */
  static Optional<FileChannel> tryHold(Path file) throws IOException {
    FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      if (channel.tryLock() != null) {
        return Optional.of(channel);
      }
    } catch (OverlappingFileLockException e) {
      // held by this JVM
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    channel.close();
    return Optional.empty();
  }
}
