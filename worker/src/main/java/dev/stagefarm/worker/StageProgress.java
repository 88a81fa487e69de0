package dev.stagefarm.worker;

import dev.stagefarm.worker.store.LayerRef;
import java.util.Optional;

/** What a running stage reports while it executes; the task loop turns it into events. */
public interface StageProgress {

  /** The stage moved on to instruction {@code index} (heartbeats carry it). */
  void instructionStarted(int index);

  /** Output of a RUN (already chunked and rate-limited by the caller). */
  void log(int index, byte[] data, boolean stderr);

  /** Instruction {@code index} finished; no layer when it changed no file. */
  void instructionDone(int index, Optional<LayerRef> layer, boolean cached, long startedMs, long finishedMs);

  /** A progress sink that drops everything, for runs nobody watches. */
  StageProgress NONE = new StageProgress() {
    @Override
    public void instructionStarted(int index) {}

    @Override
    public void log(int index, byte[] data, boolean stderr) {}

    @Override
    public void instructionDone(int index, Optional<LayerRef> layer, boolean cached, long startedMs, long finishedMs) {}
  };
}
