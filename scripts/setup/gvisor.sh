#!/usr/bin/env bash
# Installs gVisor (Debian's runsc) and registers it with the local Docker engine as the runtime `runsc`, for
# `skill-eval eval --provider=docker --runtime=runsc` and its test (tests/environments/docker-runsc.test.ts).
# Runs after docker.sh. Idempotent: a registered runtime is left alone. With CI=true a failure fails the run;
# elsewhere it warns and the runsc test says why it cannot run.
#
# Registered with `--network=host`: gVisor then uses the network namespace Docker made for the container, so
# `--network`, `allow_internet` and `network_mode` keep their meaning (gVisor's own network stack cannot start in
# a sandbox whose engine runs with --iptables=false, as here). The engine reloads daemon.json on SIGHUP: running
# containers are not touched.
set -euo pipefail
DAEMON_JSON="${SKILL_EVAL_DAEMON_JSON:-/etc/docker/daemon.json}"
fail() {
  if [ "${CI:-}" = "true" ]; then echo "gvisor: ERROR: $1" >&2; exit 1; fi
  echo "gvisor: WARNING: $1 — the runsc test will be skipped outside CI" >&2
  exit 0
}
registered() {
  docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'
}
command -v docker >/dev/null 2>&1 || fail "no docker client (scripts/setup/docker.sh installs it)"
if registered; then
  echo "gvisor: runtime runsc already registered"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || fail "registering a runtime edits $DAEMON_JSON and signals dockerd: run as root"
if ! command -v runsc >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || fail "apt-get not found: install runsc (gVisor) yourself"
  echo "gvisor: installing runsc"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq runsc >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq runsc >/dev/null; } ||
    fail "apt-get install runsc failed"
fi
pid=$(cat /var/run/docker.pid 2>/dev/null || true)
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then fail "no local dockerd to register runsc with (/var/run/docker.pid)"; fi
mkdir -p "$(dirname "$DAEMON_JSON")"
# Merge into whatever daemon.json holds (node is here: skill-eval needs it).
RUNSC="$(command -v runsc)" DAEMON_JSON="$DAEMON_JSON" node -e '
  const fs = require("node:fs");
  const file = process.env.DAEMON_JSON;
  const config = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8") || "{}") : {};
  config.runtimes = { ...config.runtimes, runsc: { path: process.env.RUNSC, runtimeArgs: ["--network=host"] } };
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + "\n");
' || fail "could not update $DAEMON_JSON"
kill -HUP "$pid"
for _ in $(seq 1 20); do
  registered && { echo "gvisor: registered runtime runsc ($(runsc --version | sed -n 1p))"; exit 0; }
  sleep 0.5
done
fail "dockerd did not pick up the runsc runtime from $DAEMON_JSON"
