#!/usr/bin/env bash
# PID 1 of every trial container (after loopback-hosts.sh): reaps orphans, survives stop-all.sh's sweep, exits on
# SIGTERM. The sleep runs in the background so the trap fires at once.
trap "exit 0" TERM INT
while :; do
  sleep 86400 &
  wait $!
done
