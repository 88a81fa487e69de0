#!/usr/bin/env bash
# The Docker engine of the multi-host tests (multihost/), started and stopped by the tests themselves.
#
#   scripts/multihost.sh start DIR   a private dockerd in DIR (socket DIR/docker.sock), then the farm's
#                                    images built by deploy/images/build.sh and `docker load`ed into it
#   scripts/multihost.sh stop DIR    stops that dockerd (its containers with it), removes its bridges,
#                                    its iptables rules (not another engine's) and its data
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
. "$root/scripts/env.sh"
action=${1:-}
dir=${2:-}
[ -n "$dir" ] || { echo "usage: scripts/multihost.sh start|stop DIR" >&2; exit 2; }
case "$action" in
  start)
    stagefarm_select_jdk
    stagefarm_ensure_packages "${STAGEFARM_RUNTIME_PACKAGES[@]}" dockerd:docker.io docker-registry:docker-registry mmdebstrap:mmdebstrap docker-compose:docker-compose umoci:umoci npm:npm
    mkdir -p "$dir"
    stagefarm_start_dockerd "$dir"
    "$root/deploy/images/build.sh" --out "$dir/images" --load "$DOCKER_SOCK" coordinator worker kafka s3 s3rver registry
    echo "$DOCKER_SOCK"
    ;;
  stop)
    stagefarm_stop_dockerd "$dir"
    # what a dockerd killed mid-way may leave mounted
    { grep -o " $dir/[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
    rm -rf "$dir/data" "$dir/exec" "$dir/images"
    ;;
  *) echo "usage: scripts/multihost.sh start|stop DIR" >&2; exit 2 ;;
esac
