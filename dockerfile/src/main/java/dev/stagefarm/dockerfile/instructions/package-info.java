/**
 * Typed Dockerfile instructions (BuildKit's {@code frontend/dockerfile/instructions}).
 *
 * <p>{@link dev.stagefarm.dockerfile.instructions.InstructionParser} turns the parser's AST into a
 * {@link dev.stagefarm.dockerfile.instructions.DockerfileModel}: global ARGs and {@link
 * dev.stagefarm.dockerfile.instructions.Stage stages} of {@link
 * dev.stagefarm.dockerfile.instructions.Instruction instructions}, validated with BuildKit's
 * messages. Values stay as written until executed: {@link
 * dev.stagefarm.dockerfile.instructions.StageScope} expands each instruction with the variables in
 * scope at its point of the stage, the way BuildKit's dispatcher does.
 */
package dev.stagefarm.dockerfile.instructions;
