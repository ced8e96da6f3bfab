#!/usr/bin/env bash
# The whole verification in one exec, as root (verify.ts), after stop-all.sh. One runc exec instead of five engine
# operations (stop-all exec, reset exec, tests upload, verifier exec, logs download), each costing about as much as
# a container start:
#   1. stop every process the agent left (stop_all);
#   2. remove what it could have planted (only what exists), recreate the verifier's log directory and a directory
#      for the verifier's output, extract the tests from stdin;
#   3. run the verifier (as USER when one is given, with runuser) in its own process group, so a timeout kills it
#      from another exec (the same marker line as exec.sh), stdout/stderr to files;
#   4. write the logs and those two files as one tar on stdout.
# Progress goes to the exec's stderr as `\036SKILL_EVAL_<WORD> …` lines (transport.ts); a failing preparation
# step's own error text comes just before its PREP_FAILED line. Nothing is changed before the checks for tar (and
# runuser).
#
# Every process started here costs 1–4 ms of CPU in a container (a command substitution forks once more), so the
# script starts few: the output directory has a fixed name (no mktemp), made by the same mkdir; no rm when nothing
# is there; no cleanup at the end (the container is removed next).
#
# Arguments: GRACE LOGS OWNER TESTS USER COMMAND OUT N REMOVE×N COLLECT…
exec 3>&2 2>/dev/null
say() { printf '\036SKILL_EVAL_%s\n' "$*" >&3; }
grace=$1 logs=$2 owner=$3 tests=$4 user=$5 cmd=$6 out=$7 n=$8
shift 8
remove=("${@:1:n}")
shift "$n"
collect=("$@")
command -v tar >/dev/null || {
  say PREP_FAILED "the image has no tar (the Docker provider needs it to copy the tests in and the logs out)"
  exit 0
}
if [ -n "$user" ] && ! command -v runuser >/dev/null; then
  say PREP_FAILED "running the verifier as $user needs runuser (util-linux) in the image"
  exit 0
fi
stop_all "$grace"
present=()
for p in "${remove[@]}" "$out"; do
  if [ -e "$p" ] || [ -L "$p" ]; then present+=("$p"); fi
done
if [ "${#present[@]}" -gt 0 ]; then
  rm -rf -- "${present[@]}" 2>&3 || {
    say PREP_FAILED "removing planted files"
    exit 0
  }
fi
mkdir -p -- "$logs" "$tests" "$out" 2>&3 || {
  say PREP_FAILED "creating $logs, $tests and $out"
  exit 0
}
if [ -n "$owner" ]; then
  chown -- "$owner" "$logs" 2>&3 || {
    say PREP_FAILED "chown $owner $logs"
    exit 0
  }
fi
tar -x -f - -C / 2>&3 >/dev/null || {
  say PREP_FAILED "extracting the tests"
  exit 0
}
say PREPARED
set -m
# The command is the lifecycle's own (`bash /tests/test.sh`): eval in the group leader, no extra bash.
{
  printf '\036SKILL_EVAL_EXEC %s %s\n' "$BASHPID" "$$" >&3
  if [ -n "$user" ]; then
    name=${user%%:*} group=${user#*:}
    [ "$group" = "$user" ] && group=''
    runuser -u "$name" ${group:+-g "$group"} -- bash -c "$cmd" >"$out/stdout" 2>"$out/stderr" </dev/null 3>&-
  else
    eval "$cmd" >"$out/stdout" 2>"$out/stderr" </dev/null 3>&-
  fi
} &
wait "$!"
rc=$?
set +m
say "RC $rc"
paths=()
for p in "${collect[@]}"; do [ -e "$p" ] && paths+=("${p#/}"); done
tar -c -f - -C / -- "${paths[@]}" "${out#/}" || say COLLECT_FAILED
exit 0
