#!/usr/bin/env bash
# Builds the farm's container images with stagefarm itself and, optionally, loads them into a dockerd.
#
#   deploy/images/build.sh [--out DIR] [--tag TAG] [--load DOCKER_HOST] [--base REF] [IMAGE...]
#
# IMAGE: coordinator worker client kafka s3 registry s3rver (default: all). Each becomes a docker-archive
# tarball DIR/<image>.tar (default DIR: deploy/images/out) named stagefarm-<image>:TAG (the
# client is plain `stagefarm:TAG`; default TAG: dev). --load also runs `docker load` of each into
# that engine (e.g. unix:///tmp/d/docker.sock).
#
# The base, unless --base names a public image with a JRE >= 21 at $JAVA_HOME (e.g.
# eclipse-temurin:21-jre, pulled by the farm's coordinator): an `mmdebstrap --variant=minbase` of
# Debian (merged /usr without the usrmerge package, so the same 88 packages as debootstrap's
# minbase) plus a jlink'ed JRE from the build JDK at /opt/java/openjdk, imported with
# `stagefarm image import` into a local docker-registry. It is made once and cached under
# $STAGEFARM_CACHE/deploy-base/<hash of its inputs> (default cache: ~/.cache/stagefarm),
# registry storage included; mmdebstrap takes 1-3 minutes depending on the machine's load
# (debootstrap, used before, 2-3 times as long: docs/status.md).
#
# The builds run on one `stagefarm up` farm whose data dir is cached too
# ($STAGEFARM_CACHE/deploy-farm), so unchanged layers (the apt-get RUNs) come from its cache.
# Runs of this script on one machine are serialised with a lock on the cache.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
images_dir="$root/deploy/images"
. "$root/scripts/env.sh"

all_images=(coordinator worker client kafka s3 registry s3rver)
out="$images_dir/out"
tag=${STAGEFARM_IMAGE_TAG:-dev}
load=
base_ref=
wanted=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --tag) tag=$2; shift 2 ;;
    --load) load=$2; shift 2 ;;
    --base) base_ref=$2; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) wanted+=("$1"); shift ;;
  esac
done
[ ${#wanted[@]} -gt 0 ] || wanted=("${all_images[@]}")
for image in "${wanted[@]}"; do
  [ -f "$images_dir/$image/Dockerfile" ] || { echo "build.sh: no image '$image' (have: ${all_images[*]})" >&2; exit 2; }
done

image_name() { if [ "$1" = client ]; then echo "stagefarm:$tag"; else echo "stagefarm-$1:$tag"; fi; }
started_at=$SECONDS
log() { echo "build.sh: [$((SECONDS - started_at)) s] $*" >&2; }

stagefarm_select_jdk
stagefarm_ensure_packages "${STAGEFARM_RUNTIME_PACKAGES[@]}" mmdebstrap:mmdebstrap docker-registry:docker-registry
if [[ " ${wanted[*]} " == *" s3rver "* ]]; then stagefarm_ensure_packages npm:npm; fi
cache=${STAGEFARM_CACHE:-$HOME/.cache/stagefarm}
mkdir -p "$cache" "$out"
exec 9> "$cache/deploy-images.lock"
flock 9

work=$(mktemp -d /tmp/stagefarm-images.XXXXXX)
registry_pid=
farm_pid=
cleanup() {
  if [ -n "$farm_pid" ]; then kill "$farm_pid" 2>/dev/null || true; wait "$farm_pid" 2>/dev/null || true; fi
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The CLI (the launcher builds it when it is missing or older than the sources).
"$root/stagefarm" --version > /dev/null

# 1. the base: Debian minbase + libsodium (the farm role keys' Ed25519) + jlink'ed JRE, cached by the hash of what goes into it
suite=bookworm
mirror=${DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit} /^deb / {print $2; exit}' \
  /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
jre_modules=java.se,jdk.unsupported,jdk.management,jdk.naming.dns,jdk.zipfs,jdk.crypto.cryptoki,jdk.security.auth,jdk.security.jgss,jdk.net,jdk.jfr,jdk.httpserver
base_recipe="v3 mmdebstrap $suite minbase+libsodium23 $mirror $jre_modules $(cat "$JAVA_HOME/release" | tr '\n' ' ')"
base_key=$(printf '%s' "$base_recipe" | sha256sum | cut -c1-16)
base_dir="$cache/deploy-base/$base_key"
base_tag=stagefarm/base:$suite-jre
if [ -z "$base_ref" ] && [ ! -f "$base_dir/rootfs.done" ]; then
  log "making the base image (mmdebstrap --variant=minbase $suite from $mirror, jlink): minutes, once per machine"
  rm -rf "$base_dir" && mkdir -p "$base_dir"
  # apt fetches in parallel and dpkg skips its fsyncs (a throwaway tree until rootfs.done); the
  # merged-usr hook lays out /usr as debootstrap does, without pulling in usrmerge and perl
  mmdebstrap --variant=minbase --include=libsodium23 --dpkgopt=force-unsafe-io --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    "$suite" "$base_dir/rootfs" "deb $mirror $suite main" > "$base_dir/mmdebstrap.log" 2>&1 || {
    log "mmdebstrap failed; see $base_dir/mmdebstrap.log"; exit 1; }
  "$JAVA_HOME/bin/jlink" --add-modules "$jre_modules" --strip-debug --no-man-pages --no-header-files \
    --output "$base_dir/rootfs/opt/java/openjdk"
  # what an image must not carry: package lists, caches, device nodes (the runtime makes /dev)
  rm -rf "$base_dir/rootfs/var/lib/apt/lists/"* "$base_dir/rootfs/var/cache/apt/"*.bin \
    "$base_dir/rootfs/var/cache/apt/archives/"*.deb "$base_dir/rootfs/var/log/"*.log "$base_dir/rootfs/dev/"* \
    "$base_dir/rootfs/etc/resolv.conf" "$base_dir/rootfs/etc/hostname"
  printf '%s\n' "$base_recipe" > "$base_dir/recipe"
  touch "$base_dir/rootfs.done"
fi

# 2. a local registry holding the base (its storage is cached with the base)
if [ -z "$base_ref" ]; then
  stagefarm_start_registry "$base_dir/registry"
else
  stagefarm_start_registry "$work/registry"
fi
registry="127.0.0.1:$registry_port"
if [ -z "$base_ref" ]; then
  if [ ! -f "$base_dir/imported.done" ]; then
    log "importing the base into the local registry as $base_tag"
    "$root/stagefarm" image import "$base_dir/rootfs" --insecure-registry "$registry" -t "$registry/$base_tag" \
      --env PATH=/opt/java/openjdk/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      --env JAVA_HOME=/opt/java/openjdk --env LANG=C.UTF-8 --cmd bash > /dev/null
    touch "$base_dir/imported.done"
  fi
  base_ref="$registry/$base_tag"
fi

# 3. the build context: deploy/images plus the CLI jar and its lib/ (hard links where possible)
ctx="$work/context"
mkdir -p "$ctx/dist"
for entry in "$images_dir"/*; do
  case "$(basename "$entry")" in out|build.sh) ;; *) cp -r "$entry" "$ctx/" ;; esac
done
# s3rver's JavaScript, pinned by its package-lock.json, from the npm registry (no native code), as
# one tarball: its ~1,500 files, sent as a tree in the context of every image, made the builds'
# context checks time out on a loaded machine
if [[ " ${wanted[*]} " == *" s3rver "* ]]; then
  rm -rf "$ctx/s3rver/node_modules" "$work/npm"
  mkdir -p "$work/npm" && cp "$images_dir/s3rver/package.json" "$images_dir/s3rver/package-lock.json" "$work/npm/"
  (cd "$work/npm" && npm ci --omit=dev --no-audit --no-fund --loglevel=error > "$work/npm.log" 2>&1) || {
    cat "$work/npm.log" >&2; log "npm ci of s3rver failed"; exit 1; }
  tar -C "$work/npm" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --use-compress-program="gzip -n" -cf "$ctx/s3rver/node_modules.tar.gz" node_modules
fi
cp -l "$root/cli/target/stagefarm.jar" "$ctx/dist/" 2>/dev/null || cp "$root/cli/target/stagefarm.jar" "$ctx/dist/"
# lib/ split in two: third-party jars (deps/, one cached layer) and stagefarm's own (own/, rebuilt
# with every change of the code)
mkdir -p "$ctx/dist/deps" "$ctx/dist/own"
for jar in "$root/cli/target/lib/"*.jar; do
  case "$(basename "$jar")" in stagefarm-*) part=own ;; *) part=deps ;; esac
  cp -l "$jar" "$ctx/dist/$part/" 2>/dev/null || cp "$jar" "$ctx/dist/$part/"
done
# the client image: the thin client distribution (client/target), packaged again when older than the CLI's jar
thin="$root/client/target"
if [ ! "$thin/stagefarm-client.jar" -nt "$root/cli/target/stagefarm.jar" ]; then
  (cd "$root" && ./mvnw -B -q --no-transfer-progress -DskipTests package -pl client -am) >&2
fi
mkdir -p "$ctx/client-dist"
cp -l "$thin/stagefarm-client.jar" "$ctx/client-dist/" 2>/dev/null || cp "$thin/stagefarm-client.jar" "$ctx/client-dist/"
cp -rl "$thin/lib" "$ctx/client-dist/lib" 2>/dev/null || cp -r "$thin/lib" "$ctx/client-dist/lib"

# 4. one farm for all builds (loopback only), its content store and cache kept between runs
farm_port=$((20000 + RANDOM % 20000))
while ! stagefarm_port_free "$farm_port"; do farm_port=$((farm_port + 1)); done
mkdir -p "$cache/deploy-farm"
rm -rf "$cache/deploy-farm/kafka" # a fresh broker each run; the S3 store (layers, cache) stays
"$root/stagefarm" up --port "$farm_port" --workers 2 --data "$cache/deploy-farm" --insecure-registry "$registry" \
  > "$work/farm.log" 2>&1 &
farm_pid=$!
for _ in $(seq 600); do
  grep -q "stagefarm is up" "$work/farm.log" && break
  kill -0 "$farm_pid" 2>/dev/null || { cat "$work/farm.log" >&2; log "the farm did not start"; exit 1; }
  sleep 0.5
done
grep -q "stagefarm is up" "$work/farm.log" || { cat "$work/farm.log" >&2; log "the farm did not start in 300 s"; exit 1; }

# 5. the images, built at once (the farm schedules them; shared layers are built once)
log "building ${wanted[*]} from $base_ref on the farm at 127.0.0.1:$farm_port"
pids=()
for image in "${wanted[@]}"; do
  "$root/stagefarm" build --coordinator "127.0.0.1:$farm_port" --progress plain \
    --build-arg "BASE=$base_ref" -f "$ctx/$image/Dockerfile" -t "$(image_name "$image")" \
    -o "type=docker,dest=$out/$image.tar" "$ctx" > "$work/build-$image.log" 2>&1 &
  pids+=($!)
done
failed=()
for i in "${!wanted[@]}"; do
  wait "${pids[$i]}" || failed+=("${wanted[$i]}")
done
# on a machine loaded far beyond its cores, the farm can miss the client's 60 s deadline for the
# context check (seen at load average 45 on 2 cores): each failed image once more, alone, from the cache
retry=("${failed[@]}")
failed=()
for image in "${retry[@]}"; do
  log "building $image failed ($(tail -1 "$work/build-$image.log" | cut -c1-160)); once more, alone"
  "$root/stagefarm" build --coordinator "127.0.0.1:$farm_port" --progress plain \
    --build-arg "BASE=$base_ref" -f "$ctx/$image/Dockerfile" -t "$(image_name "$image")" \
    -o "type=docker,dest=$out/$image.tar" "$ctx" > "$work/build-$image.log" 2>&1 || failed+=("$image")
done
for image in "${failed[@]}"; do
  log "building $image failed:"; tail -40 "$work/build-$image.log" >&2
done
[ ${#failed[@]} -eq 0 ] || exit 1
for image in "${wanted[@]}"; do log "$(image_name "$image") -> $out/$image.tar"; done

# 6. into a Docker engine, then each image checked once all are loaded: its entrypoint must exist in it
# (a container of the engine once started with an empty root: not the images but slirp4netns's sandbox
# unmounting the engine's mounts; the engine now runs in a mount namespace of its own, docs/status.md)
entrypoint_ok() { # $1 = image name
  local entry
  entry=$(/usr/bin/docker -H "$load" inspect -f '{{index .Config.Entrypoint 0}}' "$1")
  /usr/bin/docker -H "$load" run --rm --network none --entrypoint /usr/bin/test "$1" -x "$entry"
}
if [ -n "$load" ]; then
  log "loading into $load"
  for image in "${wanted[@]}"; do
    /usr/bin/docker -H "$load" load -i "$out/$image.tar" > /dev/null
  done
  for image in "${wanted[@]}"; do
    entrypoint_ok "$(image_name "$image")" || { log "$(image_name "$image") lacks its entrypoint"; exit 1; }
  done
  log "loaded into $load (entrypoints checked)"
fi
