# Sourced by ./stagefarm: runs the CLI's JVM with an AOT cache (JDK 25+: JEP 483's classes loaded and linked ahead
# of time, JEP 515's method profiles), making the cache from the first run that has none.
#
# stagefarm_aot_run CACHE JAR LIBDIR JAVA-ARGS…   runs "$JAVA_HOME/bin/java JAVA-ARGS…"; does not return.
#   - CACHE is fresh (newer than JAR, every jar of LIBDIR and the JDK's module image): the JVM runs with it.
#     The JVM does not notice by itself that a jar changed since the cache was made (JDK 25.0.3 ran a class from a
#     cache made with an older jar: bench/README.md, "Session 10"), hence the times. A cache the JVM cannot map
#     (corrupt, truncated, made by another JDK) it ignores (AOTMode=auto), silently (-Xlog:aot=off): the run goes on
#     without one.
#   - else, unless another launch is making it (flock on CACHE.lock): this run records which classes it loads
#     (-XX:AOTMode=record); once it has succeeded, a JVM assembles the cache (-XX:AOTMode=create) into a file of
#     its own, renamed over CACHE: a reader sees no cache, the old one or the whole new one, never a half-written
#     file. The run's exit code is kept; making the cache costs this one run a few seconds, after its build.
#   - else (another launch is making it, or no lock can be taken): the JVM runs without a cache.
# The run is the launcher's child only while it records (the rename comes after it); signals are forwarded as in
# the fast path (SIGTERM to the JVM, which stops its farm; Ctrl-C exits 130).

stagefarm_aot_quiet=(-Xlog:aot=off -Xlog:cds=off)

# stagefarm_aot_fresh FILE JAR LIBDIR: whether FILE is newer than JAR, every jar of LIBDIR and the JDK (no process)
stagefarm_aot_fresh() {
  local file=$1 dep
  [ "$file" -nt "$2" ] && [ "$file" -nt "$JAVA_HOME/lib/modules" ] || return 1
  for dep in "$3"/*.jar; do
    [ "$dep" -nt "$file" ] && return 1
  done
  return 0
}

stagefarm_aot_run() {
  local cache=$1 jar=$2 lib=$3 lockfd=
  shift 3
  if [ -f "$cache" ] && stagefarm_aot_fresh "$cache" "$jar" "$lib"; then
    exec "$JAVA_HOME/bin/java" -XX:AOTCache="$cache" "${stagefarm_aot_quiet[@]}" "$@"
  fi
  if ! command -v flock > /dev/null 2>&1 || ! { exec {lockfd}>> "$cache.lock"; } 2> /dev/null \
      || ! flock -n "$lockfd"; then
    exec "$JAVA_HOME/bin/java" "$@"
  fi
  # this launch makes it (the lock is held until it exits): what killed makers left goes first
  rm -f "$cache" "$cache".*.conf "$cache".*.tmp "$cache".*.start
  local conf="$cache.$$.conf" tmp="$cache.$$.tmp" start="$cache.$$.start"
  : > "$start"
  # the record run prints "AOTConfiguration recorded" on standard output, where a build's result may go
  # (-o dest=-, -q): VM output off for this run only
  stagefarm_aot_child "$JAVA_HOME/bin/java" -XX:AOTMode=record -XX:AOTConfiguration="$conf" \
    -XX:+UnlockDiagnosticVMOptions -XX:-DisplayVMOutput "${stagefarm_aot_quiet[@]}" "$@"
  local rc=$stagefarm_aot_rc
  if [ -z "$stagefarm_aot_interrupted" ] && [ "$rc" -eq 0 ] && [ -s "$conf" ]; then
    # the same JVM options and class path as the runs that will use it; its output is of no use to the user
    stagefarm_aot_child "$JAVA_HOME/bin/java" -XX:AOTMode=create -XX:AOTConfiguration="$conf" -XX:AOTCache="$tmp" \
      "${stagefarm_aot_quiet[@]}" "$@" < /dev/null > /dev/null 2>&1
    # a jar rebuilt while this run recorded or the cache was made: the cache would not match it, none is kept
    if [ -z "$stagefarm_aot_interrupted" ] && [ "$stagefarm_aot_rc" -eq 0 ] && [ -s "$tmp" ] \
        && stagefarm_aot_fresh "$start" "$jar" "$lib"; then
      mv -f "$tmp" "$cache"
    fi
  fi
  rm -f "$conf" "$tmp" "$start"
  if [ -n "$stagefarm_aot_interrupted" ]; then exit 130; fi
  exit "$rc"
}

# stagefarm_aot_child CMD…: runs CMD in the background (standard input kept), forwarding SIGTERM and SIGHUP, and
# SIGINT as SIGTERM (a non-interactive shell starts it with SIGINT ignored); sets stagefarm_aot_rc and, on SIGINT,
# stagefarm_aot_interrupted.
stagefarm_aot_interrupted=
stagefarm_aot_child() {
  local pid
  "$@" 0<&0 &
  pid=$!
  trap 'kill -TERM "$pid" 2>/dev/null' TERM HUP
  trap 'stagefarm_aot_interrupted=1; kill -TERM "$pid" 2>/dev/null' INT
  stagefarm_aot_rc=0
  wait "$pid" || stagefarm_aot_rc=$?
  while kill -0 "$pid" 2> /dev/null; do stagefarm_aot_rc=0; wait "$pid" || stagefarm_aot_rc=$?; done
  trap - TERM HUP INT
}
