/**
 * The stage graph of a Dockerfile build: {@link dev.stagefarm.dockerfile.graph.StageGraph#plan}
 * turns a {@link dev.stagefarm.dockerfile.instructions.DockerfileModel} and {@link
 * dev.stagefarm.dockerfile.graph.BuildOptions} into a {@link
 * dev.stagefarm.dockerfile.graph.BuildPlan}: bases, edges, target, pruning and readiness order,
 * with BuildKit's semantics and error messages.
 */
package dev.stagefarm.dockerfile.graph;
