#!/usr/bin/env bash
# `kill-group.sh SIG PGID [SID]`: sends SIG to a process group and to every other group of the exec's session
# (what the command started with job control of its own), sparing the wrapper's group (the wrapper and its output
# forwarders). Pure bash: the image may have no procps.
sig=$1 pg=$2 sess=${3-}
kill -s "$sig" -- "-$pg" 2>/dev/null
[ -n "$sess" ] || exit 0
for d in /proc/[0-9]*; do
  p=${d#/proc/}
  [ "$p" = "$$" ] && continue
  { read -r st <"$d/stat"; } 2>/dev/null || continue
  # Fields after the command name: state ppid pgrp session …
  # shellcheck disable=SC2086 # split on purpose
  set -- ${st##*) }
  [ "$4" = "$sess" ] && [ "$3" != "$sess" ] && kill -s "$sig" "$p" 2>/dev/null
done
exit 0
