# Sourced by ./stagefarm and scripts/*: selects a JDK >= 21 and exports JAVA_HOME (and its
# major version as STAGEFARM_JAVA_MAJOR).
# Order: $JAVA_HOME if it is >= 21, then the newest JDK under /usr/lib/jvm that is >= 21.

stagefarm_java_major() { # $1 = path to a java binary
  # the JDK's release file says it without starting a JVM (0.2-0.5 s) or any other process; the JVM is
  # asked only when the file is missing
  local release=${1%/bin/java}/release line version
  if [ -r "$release" ]; then
    while IFS= read -r line; do
      case $line in
        JAVA_VERSION=*)
          version=${line#JAVA_VERSION=\"}; version=${version#1.}; echo "${version%%[.\"]*}"; return 0 ;;
      esac
    done < "$release"
  fi
  "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2; exit}' | cut -d. -f1
}

stagefarm_select_jdk() {
  local candidate major
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ]; then
    major=$(stagefarm_java_major "$JAVA_HOME/bin/java")
    if [ "${major:-0}" -ge 21 ] 2>/dev/null; then export JAVA_HOME STAGEFARM_JAVA_MAJOR=$major; return 0; fi
  fi
  for candidate in $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do
    candidate=${candidate%/}
    [ -x "$candidate/bin/javac" ] || continue
    major=$(stagefarm_java_major "$candidate/bin/java")
    if [ "${major:-0}" -ge 21 ] 2>/dev/null; then export JAVA_HOME=$candidate STAGEFARM_JAVA_MAJOR=$major; return 0; fi
  done
  echo "stagefarm: needs a JDK 21 or newer (found none in \$JAVA_HOME or /usr/lib/jvm)." >&2
  echo "stagefarm: install one, e.g. 'apt-get install openjdk-21-jdk' or Temurin 21+, and set JAVA_HOME." >&2
  return 1
}

# Installs the Debian packages given as arguments when their command is missing.
# Arguments are pairs: COMMAND:PACKAGE, or LIBRARY.so:PACKAGE for a shared library (looked up in
# ld.so's cache).
stagefarm_ensure_packages() {
  local pair cmd pkg missing=()
  for pair in "$@"; do
    cmd=${pair%%:*}; pkg=${pair##*:}
    if [[ $cmd == lib*.so ]]; then
      /sbin/ldconfig -p 2>/dev/null | grep -q "^[[:space:]]*$cmd[. ]" || missing+=("$pkg")
      continue
    fi
    command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || [ -x "/usr/bin/$cmd" ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "stagefarm: missing packages: ${missing[*]} (run as root or install them: apt-get install ${missing[*]})" >&2
    return 1
  fi
  echo "stagefarm: installing ${missing[*]} (apt)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq "${missing[@]}" >/tmp/stagefarm-apt.log 2>&1; then
    apt-get update -qq >>/tmp/stagefarm-apt.log 2>&1 || true
    apt-get install -y -qq "${missing[@]}" >>/tmp/stagefarm-apt.log 2>&1 || {
      echo "stagefarm: apt-get install ${missing[*]} failed; see /tmp/stagefarm-apt.log" >&2; return 1; }
  fi
}

# What a build needs on the machine (runc executes RUN; slirp4netns and ip give it its network;
# busybox-static makes the local base image; libsodium signs and checks with farm role keys, ~2x
# cheaper than the pure-Java fallback used without it: docs/operations.md, "Farm keys: libsodium").
STAGEFARM_RUNTIME_PACKAGES=(runc:runc busybox:busybox-static getfattr:attr slirp4netns:slirp4netns ip:iproute2
  libsodium.so:libsodium23)
# What the test suite needs in addition.
STAGEFARM_TEST_PACKAGES=(skopeo:skopeo umoci:umoci docker-registry:docker-registry htpasswd:apache2-utils dockerd:docker.io)

# Starts Debian's docker-registry on a free loopback port with storage under $1.
# Sets registry_port and registry_pid; the caller kills registry_pid when done.
# True when nothing listens on 127.0.0.1:$1.
# stagefarm_test_classpath MODULE: compiles MODULE and the modules it needs, with their tests, in this tree (offline;
# -am instead of an install into the shared ~/.m2) and sets test_cp to MODULE's test classpath (its test classes,
# its classes, then every dependency in test scope). Run from the repository root; for the benches' Java mains.
stagefarm_test_classpath() {
  local module=$1 cp_file="$PWD/$1/target/test.classpath"
  ./mvnw -B --no-transfer-progress -q -o -pl "$module" -am test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >/dev/null
  test_cp=$PWD/$module/target/test-classes:$PWD/$module/target/classes:$(cat "$cp_file")
}

stagefarm_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stagefarm_start_registry() {
  local dir=$1
  registry_port=$((20000 + RANDOM % 20000))
  while ! stagefarm_port_free "$registry_port"; do registry_port=$((registry_port + 1)); done
  mkdir -p "$dir"
  cat > "$dir/registry.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: 127.0.0.1:$registry_port
log:
  level: error
YAML
  docker-registry serve "$dir/registry.yml" > "$dir/registry.log" 2>&1 &
  registry_pid=$!
  local _
  for _ in $(seq 50); do
    stagefarm_port_free "$registry_port" || return 0
    sleep 0.1
  done
  echo "stagefarm: docker-registry did not start; see $dir/registry.log" >&2
  return 1
}

# A private dockerd (Debian's docker.io) in directory $1: own data root, exec root and socket, so it
# touches no system engine. Sets dockerd_pid, dockerd_dir and DOCKER_SOCK; stop it with
# stagefarm_stop_dockerd. Several engines may run on one machine at once (other checkouts, CI, bench):
# each gets a bridge of its own (not docker0) and an address pool of its own (a free 10.X.0.0/16), so
# neither their networks nor their iptables rules overlap, and stop removes only this engine's bridges
# and rules (BuildKit's RUN needs the bridge network: iptables stays on). $dir/engine.env records them.
stagefarm_start_dockerd() {
  local dir=$1 key octet bridge tries
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  key=$(printf '%s' "$dir" | sha256sum | cut -c1-6)
  bridge=sf$key
  # 10.128-247.x: from the directory's hash, the next one no route or address on this machine uses
  octet=$((128 + 16#$key % 120))
  for tries in $(seq 120); do
    ip -4 route show 2>/dev/null | grep -q "^10\.$octet\." || ip -4 addr show 2>/dev/null | grep -q " 10\.$octet\." || break
    octet=$((128 + (octet - 127) % 120))
  done
  ip link del "$bridge" 2>/dev/null || true
  ip link add "$bridge" type bridge && ip addr add "10.$octet.0.1/24" dev "$bridge" && ip link set "$bridge" up || {
    echo "stagefarm: cannot make the engine's bridge $bridge" >&2; return 1; }
  printf 'dockerd_bridge=%s\ndockerd_net=10.%s.\n' "$bridge" "$octet" > "$dir/engine.env"
  # its own mount namespace (private, recursively): dockerd makes its data root a shared mount, and a
  # process elsewhere on the machine that makes a namespace without making it private (slirp4netns
  # --enable-sandbox: mount("", "/", MS_PRIVATE) without MS_REC, then pivot_root and a lazy unmount of
  # the old root; every RUN of a stagefarm worker on the host started one until session 6) unmounted
  # the engine's container roots (overlay2/*/merged) by propagation: a container starting at that moment
  # found an empty root ("exec: …: stat …: no such file or directory"). In a namespace of its own no
  # mount event from outside reaches it; its mounts go when its last process ends.
  unshare --mount --propagation private -- dockerd --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
    -H "unix://$dir/docker.sock" --storage-driver overlay2 \
    --bridge "$bridge" --default-address-pool "base=10.$octet.0.0/16,size=24" \
    ${STAGEFARM_DOCKERD_DEBUG:+--debug} > "$dir/dockerd.log" 2>&1 &
  dockerd_pid=$!
  dockerd_dir=$dir
  DOCKER_SOCK="unix://$dir/docker.sock"
  local _
  for _ in $(seq 150); do
    /usr/bin/docker -H "$DOCKER_SOCK" info > /dev/null 2>&1 && return 0
    kill -0 "$dockerd_pid" 2>/dev/null || break
    sleep 0.2
  done
  echo "stagefarm: dockerd did not start; see $dir/dockerd.log" >&2
  return 1
}

# Stops the engine of directory ${1:-$dockerd_dir} (pid $dockerd_pid, else its pid file), then removes
# its bridges (its own and those of its networks, from its address pool) and the iptables rules that
# name them or its addresses; another engine's are left alone.
stagefarm_stop_dockerd() {
  local dir=${1:-${dockerd_dir:-}} dockerd_bridge= dockerd_net= link table
  if [ -z "${dockerd_pid:-}" ] && [ -n "$dir" ] && [ -f "$dir/dockerd.pid" ]; then dockerd_pid=$(cat "$dir/dockerd.pid"); fi
  if [ -n "${dockerd_pid:-}" ]; then
    kill "$dockerd_pid" 2>/dev/null || true
    local _
    for _ in $(seq 150); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$dockerd_pid" 2>/dev/null || true
  fi
  dockerd_pid=
  [ -n "$dir" ] && [ -f "$dir/engine.env" ] || return 0
  . "$dir/engine.env"
  local links=("$dockerd_bridge") nets=("$dockerd_net")
  for link in $(ip -4 -o addr show 2>/dev/null | awk -v net="$dockerd_net" 'index($4, net) == 1 {print $2}'); do
    links+=("$link")
  done
  for link in "${links[@]}"; do ip link del "$link" 2>/dev/null || true; done
  local pattern
  pattern=$(printf '%s\n' "${links[@]}" "${nets[@]//./\\.}" | sort -u | paste -sd'|')
  # rule by rule (-D), not a filtered iptables-restore of the table: another engine may add rules meanwhile
  local rule
  for table in filter nat; do
    iptables-save -t "$table" | grep -E -- "^-A .*((-i|-o) ($pattern)( |\$)|-s ($pattern)|-d ($pattern))" \
      | while read -r -a rule; do iptables -t "$table" -D "${rule[@]:1}" 2>/dev/null || true; done
  done
}
