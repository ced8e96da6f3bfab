#!/usr/bin/env bash
# `stop_all GRACE`: stops every process that does not belong to the container's init session or to the caller's:
# everything any exec started (each exec is its own session), including what left its group or session, but not
# PID 1 and what the image's entrypoint started. SIGTERM, then SIGKILL after GRACE seconds. Pure bash: the image
# may have no procps. A function, prepended to verify.sh and to `stop_all "$1"` (Workspace.stopAll).
stop_all() {
  local grace=$1 self=$$ init st n p d sig end
  read -r st </proc/1/stat
  # shellcheck disable=SC2086 # split on purpose: state ppid pgrp session …
  set -- ${st##*) }
  init=$4
  sweep() {
    n=0
    for d in /proc/[0-9]*; do
      p=${d#/proc/}
      [ "$p" = 1 ] && continue
      [ "$p" = "$self" ] && continue
      { read -r st <"$d/stat"; } 2>/dev/null || continue
      # shellcheck disable=SC2086 # split on purpose
      set -- ${st##*) }
      [ "$1" = Z ] && continue
      [ "$4" = "$init" ] && continue
      [ "$4" = "$self" ] && continue
      kill -s "$sig" "$p" 2>/dev/null && n=$((n + 1))
    done
  }
  sig=TERM
  sweep
  [ "$n" = 0 ] && return 0
  end=$((SECONDS + grace))
  while [ "$SECONDS" -le "$end" ]; do
    sig=0
    sweep
    [ "$n" = 0 ] && return 0
    sleep 0.05 2>/dev/null || sleep 1
  done
  sig=KILL
  sweep
  return 0
}
