# Sourced by ./stagefarm: the launcher's AOT caches (JDK 25+: JEP 483's classes loaded and linked ahead of time,
# JEP 515's method profiles), one mechanism for both of its JVMs: the one-shot CLI's (stagefarm_aot_run) and the
# thin client's (run_aot_train in ./stagefarm). A cache is
#   - used only when fresh: newer than its jar, every jar of its lib directory and the JDK's module image
#     (stagefarm_aot_fresh). The JVM does not notice by itself that a jar changed since the cache was made (JDK
#     25.0.3 ran a class from a cache made with an older jar: bench/README.md, "Session 10"), hence the times. A
#     cache the JVM cannot map (corrupt, truncated, made by another JDK) it ignores (AOTMode=auto), silently
#     (-Xlog:aot=off): the run goes on without one;
#   - made by one launch at a time (stagefarm_aot_lock: flock on CACHE.lock, held until the maker exits; without
#     flock no cache is made): a run records which classes it loads (-XX:AOTMode=record, into a file of its own),
#     then a JVM assembles the cache (-XX:AOTMode=create) into a file of its own, renamed over CACHE
#     (stagefarm_aot_make): a reader sees no cache, the old one or the whole new one, never a half-written file; a
#     cache made while a jar or the JDK changed is dropped. The assembling (seconds of CPU) runs in the background,
#     after the command has returned: no user's command waits for it.

stagefarm_aot_quiet=(-Xlog:aot=off -Xlog:cds=off)
# how many more times the one-shot records a run after one whose farm ran no task (see stagefarm_aot_run)
stagefarm_aot_partial_limit=${STAGEFARM_AOT_PARTIAL_LIMIT:-2}

# stagefarm_aot_fresh FILE JAR [LIBDIR]: whether FILE is newer than JAR, every jar of LIBDIR and the JDK (no process)
stagefarm_aot_fresh() {
  local file=$1 dep
  [ "$file" -nt "$2" ] && [ "$file" -nt "$JAVA_HOME/lib/modules" ] || return 1
  [ -n "${3:-}" ] || return 0
  for dep in "$3"/*.jar; do
    [ "$dep" -nt "$file" ] && return 1
  done
  return 0
}

# stagefarm_aot_upgraded_jar JAR UPGRADED CACHE: prints UPGRADED, JAR with its class files older than Java 6 rewritten as
# Java 8 ones (scripts/ClassFileUpgrade.java: the AOT cache leaves out "old" classes once linked, and picocli's are),
# made when missing or older than JAR (~2 s of CPU, once per CLI build: into a file of its own, renamed; CACHE, made
# with the old class path, is dropped); fails when it cannot be made (then an empty UPGRADED says so to later runs,
# until JAR changes) or JAR is not one file.
stagefarm_aot_upgraded_jar() {
  local jar=$1 upgraded=$2 cache=$3 tmp="$2.$$.tmp" fd
  [ "$#" -eq 3 ] && [ -f "$jar" ] || return 1
  if [ ! "$upgraded" -nt "$jar" ]; then
    # one maker at a time; another launch waits for it (a cache is made only with flock, as above)
    command -v flock > /dev/null 2>&1 || return 1
    { exec {fd}>> "$upgraded.lock"; } 2> /dev/null || return 1
    flock "$fd" || { exec {fd}>&-; return 1; }
    if [ ! "$upgraded" -nt "$jar" ]; then
      rm -f "$cache" "$cache.partial"
      if "$JAVA_HOME/bin/java" "$(dirname "${BASH_SOURCE[0]}")/ClassFileUpgrade.java" "$jar" "$tmp" \
          < /dev/null > /dev/null 2>&1 && [ -s "$tmp" ]; then
        mv -f "$tmp" "$upgraded"
      else
        rm -f "$tmp"; : > "$upgraded"
      fi
    fi
    exec {fd}>&-
  fi
  [ -s "$upgraded" ] || return 1
  printf '%s\n' "$upgraded"
}

# stagefarm_aot_lock CACHE: takes CACHE.lock without waiting, on a descriptor of this shell that its children
# inherit (the lock lasts until the last of them exits); fails when another launch holds it or flock is missing.
stagefarm_aot_lock() {
  local fd
  command -v flock > /dev/null 2>&1 || return 1
  { exec {fd}>> "$1.lock"; } 2> /dev/null || return 1
  flock -n "$fd" || { exec {fd}>&-; return 1; }
}

# stagefarm_aot_begin CACHE: under the lock, before a recording: drops what killed makers left and marks when this
# recording began (the freshness check of stagefarm_aot_make); sets stagefarm_aot_conf, the recording's file.
stagefarm_aot_begin() {
  rm -f "$1".*.conf "$1".*.tmp "$1".*.start "$1".*.note
  stagefarm_aot_conf="$1.$$.conf"
  : > "$1.$$.start"
}

# stagefarm_aot_make CACHE JAR LIBDIR JAVA-ARGS…: assembles CACHE from the recording (AOTMode=create, with the JVM
# options and class path of the runs that will use it: JAVA-ARGS) into a file of its own, renamed over CACHE unless
# a jar or the JDK changed since the recording began; removes the recording. Fails when no cache was made.
stagefarm_aot_make() {
  local cache=$1 jar=$2 lib=$3 tmp="$1.$$.tmp" start="$1.$$.start" made=1
  shift 3
  if [ -s "$stagefarm_aot_conf" ] && "$JAVA_HOME/bin/java" -XX:AOTMode=create \
      -XX:AOTConfiguration="$stagefarm_aot_conf" -XX:AOTCache="$tmp" "${stagefarm_aot_quiet[@]}" "$@" \
      < /dev/null > /dev/null 2>&1 && [ -s "$tmp" ] && stagefarm_aot_fresh "$start" "$jar" "$lib"; then
    mv -f "$tmp" "$cache" && made=0
  fi
  rm -f "$stagefarm_aot_conf" "$tmp" "$start"
  return "$made"
}

# stagefarm_aot_run CACHE JAR LIBDIR JAVA-ARGS…   the one-shot CLI: runs "$JAVA_HOME/bin/java JAVA-ARGS…"; does not
# return.
#   - CACHE fresh and whole: the JVM runs with it.
#   - else, under the lock: this run records (its exit code and output unchanged: the record run prints
#     "AOTConfiguration recorded" on standard output, where a build's result may go, so VM output is off for it);
#     once it has succeeded, the cache is made in the background. The run tells the launcher whether its farm
#     ran a task (the file STAGEFARM_AOT_NOTE names): a run that ran none (every stage cached, or no stage to run)
#     recorded no worker or RUN code, so its cache is partial (CACHE.partial, holding how many such recordings
#     there were): used, but the next run records again (without a cache), up to stagefarm_aot_partial_limit more
#     times, until one runs a task; then the partial cache stays.
#   - else (another launch is making it, or no lock): the JVM runs with the partial cache if one is fresh, else
#     without one.
# The run is the launcher's child while it records; signals are forwarded as in the fast path (SIGTERM to the JVM,
# which stops its farm; Ctrl-C exits 130).
stagefarm_aot_run() {
  local cache=$1 jar=$2 lib=$3 fresh=false partial=0
  shift 3
  if [ -f "$cache" ] && stagefarm_aot_fresh "$cache" "$jar" "$lib"; then fresh=true; fi
  if [ "$fresh" = true ] && [ -f "$cache.partial" ]; then partial=$(cat "$cache.partial" 2> /dev/null || echo 0); fi
  [[ "$partial" =~ ^[0-9]+$ ]] || partial=0
  if [ "$fresh" = true ] && { [ ! -f "$cache.partial" ] || [ "$partial" -gt "$stagefarm_aot_partial_limit" ]; }; then
    exec "$JAVA_HOME/bin/java" -XX:AOTCache="$cache" "${stagefarm_aot_quiet[@]}" "$@"
  fi
  if ! stagefarm_aot_lock "$cache"; then
    if [ "$fresh" = true ]; then exec "$JAVA_HOME/bin/java" -XX:AOTCache="$cache" "${stagefarm_aot_quiet[@]}" "$@"; fi
    exec "$JAVA_HOME/bin/java" "$@"
  fi
  # this launch makes it (the lock is held until it and the background maker exit)
  if [ "$fresh" = false ]; then rm -f "$cache" "$cache.partial"; partial=0; fi
  stagefarm_aot_begin "$cache"
  local note="$cache.$$.note"
  stagefarm_aot_child env STAGEFARM_AOT_NOTE="$note" "$JAVA_HOME/bin/java" -XX:AOTMode=record \
    -XX:AOTConfiguration="$stagefarm_aot_conf" -XX:+UnlockDiagnosticVMOptions -XX:-DisplayVMOutput \
    "${stagefarm_aot_quiet[@]}" "$@"
  local rc=$stagefarm_aot_rc ran=false
  if [ -s "$note" ]; then ran=true; fi
  rm -f "$note"
  if [ -z "$stagefarm_aot_interrupted" ] && [ "$rc" -eq 0 ] && [ -s "$stagefarm_aot_conf" ]; then
    (
      if stagefarm_aot_make "$cache" "$jar" "$lib" "$@"; then
        if [ "$ran" = true ]; then rm -f "$cache.partial"; else printf %s $((partial + 1)) > "$cache.partial"; fi
      fi
    ) < /dev/null > /dev/null 2>&1 &
  else
    rm -f "$stagefarm_aot_conf" "$cache.$$.start"
  fi
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
