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
# Arguments are pairs: COMMAND:PACKAGE.
stagefarm_ensure_packages() {
  local pair cmd pkg missing=()
  for pair in "$@"; do
    cmd=${pair%%:*}; pkg=${pair##*:}
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
# busybox-static makes the local base image).
STAGEFARM_RUNTIME_PACKAGES=(runc:runc busybox:busybox-static getfattr:attr slirp4netns:slirp4netns ip:iproute2)
# What the test suite needs in addition.
STAGEFARM_TEST_PACKAGES=(skopeo:skopeo umoci:umoci docker-registry:docker-registry htpasswd:apache2-utils dockerd:docker.io)

# Starts Debian's docker-registry on a free loopback port with storage under $1.
# Sets registry_port and registry_pid; the caller kills registry_pid when done.
# True when nothing listens on 127.0.0.1:$1.
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
# touches no system engine. Sets dockerd_pid and DOCKER_SOCK; stop it with stagefarm_stop_dockerd.
# It makes the docker0 bridge and DOCKER iptables chains (BuildKit's RUN needs the bridge network);
# stagefarm_stop_dockerd removes them again.
stagefarm_start_dockerd() {
  local dir=$1
  mkdir -p "$dir"
  dockerd --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
    -H "unix://$dir/docker.sock" --storage-driver overlay2 > "$dir/dockerd.log" 2>&1 &
  dockerd_pid=$!
  DOCKER_SOCK="unix://$dir/docker.sock"
  local _
  for _ in $(seq 100); do
    /usr/bin/docker -H "$DOCKER_SOCK" info > /dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "stagefarm: dockerd did not start; see $dir/dockerd.log" >&2
  return 1
}

stagefarm_stop_dockerd() {
  [ -n "${dockerd_pid:-}" ] || return 0
  kill "$dockerd_pid" 2>/dev/null || true
  local _
  for _ in $(seq 100); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.1; done
  dockerd_pid=
  ip link del docker0 2>/dev/null || true
  local table
  for table in filter nat; do
    iptables-save -t "$table" | grep -v -i docker | iptables-restore -T "$table" 2>/dev/null || true
  done
}
