/**
 * The host side of a RUN: overlay and tmpfs mounts, OCI runtime bundles, runc, USER resolution and
 * path resolution inside a root filesystem. Needs root.
 */
package dev.stagefarm.worker.runtime;
