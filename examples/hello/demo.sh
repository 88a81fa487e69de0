#!/usr/bin/env bash
# The README's first command: a real multi-stage build of examples/hello on a
# fresh machine with no public registry, ending with the image's binary
# printing "hello, world".
#
# What it sets up by itself: the JDK check and the CLI build (./stagefarm),
# runc / busybox-static / umoci / docker-registry (apt), a local registry with a
# busybox base image made from the host's busybox-static (stagefarm image
# import), then it builds on the local farm (coordinator + workers on an
# in-process bus, a directory content store, one background JVM), unpacks the
# image with umoci and runs it with runc.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
cd "$root"
. scripts/env.sh
stagefarm_select_jdk
stagefarm_ensure_packages "${STAGEFARM_RUNTIME_PACKAGES[@]}" umoci:umoci docker-registry:docker-registry

work=$(mktemp -d /tmp/stagefarm-demo.XXXXXX)
registry_pid=
cleanup() {
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. a local registry standing in for Docker Hub
stagefarm_start_registry "$work/registry"
port=$registry_port

# 2. a busybox base image from Debian's busybox-static, pushed as docker.io's library/busybox
./stagefarm image busybox-rootfs "$work/rootfs"
./stagefarm image import "$work/rootfs" --cmd sh \
  -t "127.0.0.1:$port/library/busybox:latest" --insecure-registry "127.0.0.1:$port"

# 3. the build: on the local farm (this build starts it in the background; ./stagefarm farm stop ends it),
#    docker.io mirrored by the local registry
./stagefarm build --registry-mirror "docker.io=127.0.0.1:$port" \
  -t hello:latest -o "type=oci,dest=$work/hello.tar" examples/hello

# 4. run the image's binary: umoci unpacks the OCI tarball, runc runs it
mkdir -p "$work/layout"
tar -xf "$work/hello.tar" -C "$work/layout"
umoci unpack --image "$work/layout:latest" "$work/bundle" > /dev/null
sed -i 's/"terminal": *true/"terminal": false/' "$work/bundle/config.json"
echo "running the image with runc:" >&2
runc run --bundle "$work/bundle" "stagefarm-hello-$$"
