package dev.stagefarm.worker.exec;

import java.io.IOException;

/**
 * A write of an op failed because the stage used up its {@code stage-disk}: the stage's doing, not
 * a fault of this worker, so the stage fails for good with a message naming the setting.
 */
final class StageDiskFull extends IOException {
  final String setting;

  StageDiskFull(String setting, IOException cause) {
    super(cause.getMessage(), cause);
    this.setting = setting;
  }
}
