# Sourced by bench/client.sh and bench/scaling.sh: the repository root as the working directory, the JDK,
# the packages a build needs, and a local registry with the busybox base image.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
cd "$root"
. scripts/env.sh
stagefarm_select_jdk
stagefarm_ensure_packages "${STAGEFARM_RUNTIME_PACKAGES[@]}" docker-registry:docker-registry

# bench_base DIR CLI…: starts docker-registry under DIR and pushes a busybox image made from Debian's
# busybox-static with CLI (a stagefarm command line); sets registry_pid, port and base (the image reference).
bench_base() {
  local dir=$1; shift
  stagefarm_start_registry "$dir/registry"
  port=$registry_port
  base="127.0.0.1:$port/library/busybox:latest"
  "$@" image busybox-rootfs "$dir/rootfs" > /dev/null
  "$@" image import "$dir/rootfs" --cmd sh -t "$base" --insecure-registry "127.0.0.1:$port" > /dev/null
}
