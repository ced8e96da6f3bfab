#!/usr/bin/env bash
# The trial audit's shell side (src/trial/audit/script.ts runs it, snapshot.ts parses it): one tab-separated line
# per fact, `TAG<TAB>PATH[<TAB>SIGNATURE]`. GNU find and coreutils (Debian images, the host); elsewhere it prints
# less and never fails. Its inputs come in the environment; lists are one path per line:
#   AUDIT_POINT           before | after (the agent)
#   AUDIT_SEARCH_SKILLS   1: search the environment for SKILL.md (the no-skills arm)
#   AUDIT_SCAN_ROOTS      where to search;  AUDIT_PRUNE  what never to search
#   AUDIT_SKILL_TARGETS   every folder the agent discovers skills in;  AUDIT_SKILLS  the skills placed there
#   AUDIT_VERIFIER_LOGS, AUDIT_TESTS, AUDIT_SOLUTION   the verifier's territory
#   AUDIT_SCAN_SECONDS    how long the search may take;  AUDIT_LISTING_LINES  lines per listing at most
set +e
as_list() { [ -n "$1" ] && printf '%s\n' "$1"; }
mapfile -t scan_roots < <(as_list "${AUDIT_SCAN_ROOTS:-}")
mapfile -t prune < <(as_list "${AUDIT_PRUNE:-}")
mapfile -t skill_targets < <(as_list "${AUDIT_SKILL_TARGETS:-}")
mapfile -t skills < <(as_list "${AUDIT_SKILLS:-}")
mapfile -t verifier_logs < <(as_list "${AUDIT_VERIFIER_LOGS:-}")
limit=${AUDIT_LISTING_LINES:-5000}

search_skills() {
  local prune_args=() p d
  for p in "${prune[@]}"; do
    [ ${#prune_args[@]} -gt 0 ] && prune_args+=(-o)
    prune_args+=(-path "$p")
  done
  local bounded=()
  command -v timeout >/dev/null && bounded=(timeout "${AUDIT_SCAN_SECONDS:-20}")
  "${bounded[@]}" find "${scan_roots[@]}" -xdev \( "${prune_args[@]}" \) -prune -o -iname SKILL.md \
    -printf 'skill_file\t%p\n' 2>/dev/null | head -n 200
  [ "${PIPESTATUS[0]}" = 124 ] && printf 'incomplete\n'
  for d in "${skill_targets[@]}"; do
    [ -d "$d" ] && [ -n "$(ls -A "$d" 2>/dev/null)" ] && printf 'skill_dir\t%s\n' "$d"
  done
}

present_skills() {
  local target skill
  for target in "${skill_targets[@]}"; do
    for skill in "${skills[@]}"; do
      [ -f "$target/$skill/SKILL.md" ] && printf 'present\t%s\n' "$target/$skill/SKILL.md"
    done
  done
}

# Each area's entries with their type, size and mtime (`snap:AREA`), a bounded number per area.
snap() {
  local area=$1 d
  shift
  for d in "$@"; do
    [ -e "$d" ] || continue
    find -H "$d" -maxdepth 6 -printf "snap:$area\t%p\t%y %s %T@\n" 2>/dev/null | head -n "$limit"
  done
}

snapshot() {
  local b d target skill path_dirs=()
  snap verifier_logs "${verifier_logs[@]}"
  snap tests "${AUDIT_TESTS:-}"
  snap solution "${AUDIT_SOLUTION:-}"
  # The verifier runs `bash tests/test.sh` with this PATH: its interpreter by digest, every PATH tool by listing.
  b=$(command -v bash) && printf 'snap:interpreter\t%s\t%s\n' "$b" "$(sha256sum "$b" 2>/dev/null | cut -d' ' -f1)"
  IFS=: read -ra path_dirs <<<"$PATH"
  for d in "${path_dirs[@]}"; do
    case "$d" in /*) ;; *) continue ;; esac
    if [ -w "$d" ]; then
      find -H "$d" -mindepth 1 -maxdepth 1 -printf 'snap:path_tools\t%p\t%y %s %T@ %i\n' 2>/dev/null | head -n "$limit"
    else
      # Read-only here (the local sandbox's toolchain): nothing in it can change, so its names are enough (a new
      # tool elsewhere that shadows one of them still counts), without a stat of every entry.
      find -H "$d" -mindepth 1 -maxdepth 1 -printf 'snap:path_tools\t%p\tread-only\n' 2>/dev/null | head -n "$limit"
    fi
  done
  for target in "${skill_targets[@]}"; do
    for skill in "${skills[@]}"; do
      [ -d "$target/$skill" ] || continue
      find "$target/$skill" -type f -print0 2>/dev/null | xargs -0 -r sha256sum 2>/dev/null | head -n "$limit" |
        while read -r hash path; do printf 'snap:skill\t%s\t%s\n' "$path" "$hash"; done
    done
  done
}

if [ "${AUDIT_POINT:-}" = before ]; then
  [ "${AUDIT_SEARCH_SKILLS:-0}" = 1 ] && search_skills
  present_skills
fi
snapshot
exit 0
