#!/usr/bin/env bash
# deploy/compose end to end: a farm from the locally built images (Kafka, S3, registry, coordinator,
# two workers), a busybox base image pushed to its registry, examples/hello built through it by the
# stagefarm client on the host, and the resulting image run with runc ("hello, world").
#
#   deploy/compose/smoke.sh                        its own dockerd and images (scripts/multihost.sh)
#   deploy/compose/smoke.sh --docker-host unix://… an engine that already has the images loaded
#   --s3 s3rver                                    the second S3 backend (docker-compose.s3rver.yml)
#
# The multi-host test suite runs it (multihost/ ComposeFarmTest) on its engine.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
. "$root/scripts/env.sh"
stagefarm_select_jdk
stagefarm_ensure_packages "${STAGEFARM_RUNTIME_PACKAGES[@]}" docker-compose:docker-compose umoci:umoci
docker_host=
s3=s3proxy
while [ $# -gt 0 ]; do
  case "$1" in
    --docker-host) docker_host=$2; shift 2 ;;
    --s3) s3=$2; shift 2 ;;
    *) echo "smoke.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$s3" in s3proxy|s3rver) ;; *) echo "smoke.sh: --s3 is s3proxy or s3rver, not $s3" >&2; exit 2 ;; esac

work=$(mktemp -d /tmp/stagefarm-compose.XXXXXX)
project=sfsmoke$$
own_engine=false
cleanup() {
  if [ -n "$docker_host" ]; then
    (cd "$work/project" && DOCKER_HOST=$docker_host docker-compose -p "$project" down -v --timeout 5 > /dev/null 2>&1) || true
  fi
  if [ "$own_engine" = true ]; then "$root/scripts/multihost.sh" stop "$work/engine" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "$docker_host" ]; then
  own_engine=true
  docker_host=$("$root/scripts/multihost.sh" start "$work/engine" | tail -1)
fi
export DOCKER_HOST=$docker_host

# 1. the project: the compose file, the farm's role keys, the S3 secret and free host ports
mkdir -p "$work/project"
cp "$root/deploy/compose/docker-compose.yml" "$root/deploy/compose/docker-compose.s3rver.yml" "$work/project/"
compose_file=docker-compose.yml
if [ "$s3" = s3rver ]; then compose_file=docker-compose.yml:docker-compose.s3rver.yml; fi
"$root/stagefarm" admin farm-keys --out "$work/project/keys" > /dev/null
pick_port() { local p=$((20000 + RANDOM % 20000)); while ! stagefarm_port_free "$p"; do p=$((p + 1)); done; echo "$p"; }
coordinator_port=$(pick_port)
registry_port=$(pick_port)
cat > "$work/project/.env" <<ENV
STAGEFARM_S3_SECRET_KEY=$(head -c 18 /dev/urandom | base64 | tr -d '/+')
STAGEFARM_COORDINATOR_PORT=$coordinator_port
STAGEFARM_REGISTRY_PORT=$registry_port
COMPOSE_FILE=$compose_file
ENV
cd "$work/project"

# 2. the farm, two workers
docker-compose -p "$project" up -d --scale worker=2
ready=false
for _ in $(seq 300); do
  logs=$(docker-compose -p "$project" logs --no-color coordinator worker 2>/dev/null || true)
  if [ "$(grep -c 'coordinator listening' <<< "$logs")" -ge 1 ] && [ "$(grep -c 'stagefarm worker .* running' <<< "$logs")" -ge 2 ]; then
    ready=true; break
  fi
  sleep 1
done
if [ "$ready" != true ]; then
  docker-compose -p "$project" logs --no-color --tail 30 >&2
  echo "smoke.sh: the farm did not come up in 300 s" >&2; exit 1
fi

# 3. a base image for the build, into the farm's registry (published on the host's loopback)
"$root/stagefarm" image busybox-rootfs "$work/busybox" > /dev/null
"$root/stagefarm" image import "$work/busybox" --cmd sh --insecure-registry "127.0.0.1:$registry_port" \
  -t "127.0.0.1:$registry_port/library/busybox:latest" > /dev/null

# 4. the build, through the coordinator; then the image's program, run with runc
"$root/stagefarm" build --coordinator "127.0.0.1:$coordinator_port" --progress plain \
  -t hello:compose -o "type=oci,dest=$work/hello.tar" "$root/examples/hello"
mkdir -p "$work/layout"
tar -xf "$work/hello.tar" -C "$work/layout"
umoci unpack --image "$work/layout:compose" "$work/bundle" > /dev/null
sed -i 's/"terminal": *true/"terminal": false/' "$work/bundle/config.json"
said=$(runc run --bundle "$work/bundle" "stagefarm-compose-$$")
echo "the image says: $said"
[ "$said" = "hello, world" ] || { echo "smoke.sh: expected 'hello, world'" >&2; exit 1; }
echo "smoke.sh: a build through deploy/compose ($s3) succeeded"
