/**
 * Executes a stage program's ops (a pipeline, one class per step): {@link
 * dev.stagefarm.worker.exec.StageJobs} decodes the task, {@link
 * dev.stagefarm.worker.exec.BaseMaterialiser} stacks the base layers, {@link
 * dev.stagefarm.worker.exec.OpPipeline} walks the ops: {@link dev.stagefarm.worker.exec.OpCache}
 * takes an op from the cache, or {@link dev.stagefarm.worker.exec.ActionStep} runs its action
 * ({@link dev.stagefarm.worker.exec.ExecAction}, {@link dev.stagefarm.worker.exec.CopyAction},
 * {@link dev.stagefarm.worker.exec.MkdirAction}) on a fresh overlay upper dir and {@link
 * dev.stagefarm.worker.exec.LayerSnapshotter} turns that into a layer; the image config follows
 * from {@code ConfigFold}.
 */
package dev.stagefarm.worker.exec;
