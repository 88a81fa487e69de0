/**
 * Stage programs: what the coordinator compiles one Dockerfile stage into and a worker executes
 * (docs/architecture.md, "Stage programs"). The coordinator is the only interpreter of a
 * Dockerfile; a program is fully resolved except for what only a worker can know: user names
 * through the rootfs's {@code /etc/passwd}, globs over a {@code --from} input, whether a
 * destination already is a directory, whether a file is an archive.
 *
 * <p>{@link dev.stagefarm.program.StageProgram} and its parts are the domain model;
 * {@link dev.stagefarm.program.ProgramCodec} maps them to and from the wire
 * ({@code stagefarm.v1.StageProgram}); {@link dev.stagefarm.program.CacheKeys} derives op keys
 * from their canonical bytes; {@link dev.stagefarm.program.ConfigFold} applies ops to an image
 * config, the same way on both sides.
 */
package dev.stagefarm.program;
