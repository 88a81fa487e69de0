/**
 * The stage compiler: the one place a Dockerfile is interpreted. {@link
 * dev.stagefarm.coordinator.compile.StageCompiler} turns a stage the frontend planned into a
 * {@link dev.stagefarm.program.StageProgram} of resolved ops, one per instruction, as BuildKit's
 * dispatcher turns it into LLB: variables expanded in order, shell form wrapped, context sources
 * selected ({@link dev.stagefarm.coordinator.compile.ContextSelector}), {@code --from} and
 * {@code from=} as program inputs, metadata as config deltas. Errors are the frontend's {@link
 * dev.stagefarm.dockerfile.DockerfileException}, at the instruction's line. No I/O: the planner
 * hands in the context manifest and resolves stages and images.
 */
package dev.stagefarm.coordinator.compile;
