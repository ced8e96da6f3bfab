#!/usr/bin/env bash
# The wrapper of every workspace command (exec.ts), after loopback-hosts.sh: `bash -c WRAPPER skill-eval-exec CMD`.
#
# Runs `bash -c "$1"` as the leader of its own process group (job control on), after reporting that group and the
# exec's session as the first line on stderr (`\036SKILL_EVAL_EXEC <pgid> <sid>`, see transport.ts), so a timeout
# can kill the whole group from another exec.
#
# The command's output goes through two `cat` forwarders rather than straight to the exec's streams: when the
# command exits but left background processes holding its stdout (`server &`), the wrapper waits briefly for the
# forwarders, then kills them, so the exec ends at once. (Writing straight to the exec's streams, the engine would
# wait ~2 s for them and block every other exec of the container meanwhile.) The wrapper's own stderr goes to
# /dev/null so bash's job notices ("[1]+ Done") never reach the output. With job control on, bash does not point a
# background job's stdin at /dev/null: stdin passes through.
exec 3>&2 2>/dev/null
set -m
o='' e=''
if command -v cat >/dev/null; then
  exec 4> >(exec cat)
  o=$!
  exec 5> >(exec cat >&3)
  e=$!
else
  exec 4>&1 5>&3
fi
{
  exec 1>&4 2>&5 3>&- 4>&- 5>&-
  printf '\036SKILL_EVAL_EXEC %s %s\n' "$BASHPID" "$$" >&2
  exec bash -c "$1"
} &
j=$!
exec 4>&- 5>&-
wait "$j"
rc=$?
# Forwarders end at EOF; held open by a background process, they are killed after 0.2 s. (The timer must not hold
# fd 3, the exec's stderr, or the exec would last as long as it.)
if [ -n "$o" ]; then
  (
    sleep 0.2
    kill -KILL "$o" "$e"
  ) >/dev/null 2>&1 3>&- &
  k=$!
  wait "$o" "$e"
  kill -KILL "$k" 2>/dev/null
fi
exit "$rc"
