#!/usr/bin/env bash
# Builds the offline base image skill-eval/base:bookworm with debootstrap (no registry needed: only Debian's mirror),
# then `docker import`s it. Task Dockerfiles can start `FROM skill-eval/base:bookworm` on machines without Docker Hub.
#
# Cached and idempotent: skipped when the image exists with the same skill-eval.base.version label. Bump
# BASE_VERSION (or change the package list, which is part of the label) to rebuild everywhere.
#
# Usage: scripts/build-base-image.sh [--force]
# Env:   SKILL_EVAL_DEBIAN_MIRROR  mirror to debootstrap from (default: the one this machine's apt uses)
#        SKILL_EVAL_BASE_IMAGE     image name (default skill-eval/base:bookworm)
# Outside CI a failure only warns (the Docker tests then skip loudly); with CI=true it fails.
set -euo pipefail

BASE_VERSION=1
SUITE=bookworm
IMAGE="${SKILL_EVAL_BASE_IMAGE:-skill-eval/base:bookworm}"
PACKAGES="bash,coreutils,git,nodejs,python3,ca-certificates,procps"
LABEL_VALUE="${BASE_VERSION}-${SUITE}-$(printf '%s' "$PACKAGES" | sha256sum | cut -c1-12)"
FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1

fail() {
  if [ "${CI:-}" = "true" ]; then
    echo "base-image: ERROR: $1" >&2
    exit 1
  fi
  echo "base-image: WARNING: $1 — the Docker provider tests will be skipped outside CI" >&2
  exit 0
}

command -v docker >/dev/null 2>&1 || fail "docker client not found (run scripts/setup/docker.sh)"
timeout 10 docker info >/dev/null 2>&1 || fail "no Docker engine answers (run scripts/setup/docker.sh)"

current="$(docker image inspect --format '{{ index .Config.Labels "skill-eval.base.version" }}' "$IMAGE" 2>/dev/null || true)"
if [ "$FORCE" -eq 0 ] && [ "$current" = "$LABEL_VALUE" ]; then
  echo "base-image: $IMAGE is up to date (skill-eval.base.version=$LABEL_VALUE)"
  exit 0
fi

command -v debootstrap >/dev/null 2>&1 || fail "debootstrap not found (run scripts/setup/docker.sh, or apt-get install debootstrap)"
[ "$(id -u)" -eq 0 ] || fail "debootstrap needs root"

# The mirror this machine's apt already uses (deb822 .sources first, then one-line sources.list entries).
mirror="${SKILL_EVAL_DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    mirror="$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$file")"
    [ -n "$mirror" ] && break
  done
fi
if [ -z "$mirror" ]; then
  mirror="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
    | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/ && $i !~ /security/) { print $i; exit } }' || true)"
fi
[ -n "$mirror" ] || fail "no Debian mirror found in /etc/apt/sources.list*; set SKILL_EVAL_DEBIAN_MIRROR"

work="$(mktemp -d /var/tmp/skill-eval-base.XXXXXX)"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
echo "base-image: debootstrap $SUITE from $mirror into $root (packages: $PACKAGES)"
debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 30 "$work/debootstrap.log" >&2
  fail "debootstrap failed"
}
# Smaller image; apt still works from inside (host networking) after an apt-get update.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/tmp/* 2>/dev/null || true
mkdir -p "$root/app"

echo "base-image: importing as $IMAGE"
tar --numeric-owner -C "$root" -c . | docker import \
  --change "LABEL skill-eval.base.version=$LABEL_VALUE" \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV LANG=C.UTF-8" \
  --change "WORKDIR /app" \
  --change 'CMD ["bash"]' \
  - "$IMAGE" >/dev/null || fail "docker import failed"
echo "base-image: built $IMAGE ($(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1e6 }'), skill-eval.base.version=$LABEL_VALUE)"
