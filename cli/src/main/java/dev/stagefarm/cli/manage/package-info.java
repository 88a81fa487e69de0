/**
 * Commands that look after a running farm rather than build: {@code ls}, {@code logs},
 * {@code cancel}, {@code du}, {@code prune}. Each talks to the coordinator through
 * {@link dev.stagefarm.cli.build.BuildClient} with the flags of {@link dev.stagefarm.cli.farm.FarmConnection}.
 */
package dev.stagefarm.cli.manage;
