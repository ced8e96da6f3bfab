#!/usr/bin/env bash
# The trial audit's shell side (src/trial/audit/script.ts runs it, snapshot.ts parses it): one tab-separated line
# per fact, `TAG<TAB>PATH[<TAB>SIGNATURE]`. GNU find and coreutils (Debian images, the host); elsewhere it prints
# less and never fails. Its inputs come in the environment; lists are one path per line:
#   AUDIT_POINT           before | after (the agent)
#   AUDIT_SEARCH_SKILLS   1: search the environment for SKILL.md (the no-skills arm)
#   AUDIT_SCAN_ROOTS      where to search;  AUDIT_PRUNE  what never to search
#   AUDIT_SKILL_TARGETS   every folder the agent discovers skills in;  AUDIT_SKILLS  the skills placed there
#   AUDIT_VERIFIER_LOGS, AUDIT_TESTS, AUDIT_SOLUTION   the verifier's territory
#   AUDIT_SCAN_SECONDS    how long the search may take;  AUDIT_LISTING_LINES  bounds the output (8 × it)
set +e
as_list() { [ -n "$1" ] && printf '%s\n' "$1"; }
mapfile -t scan_roots < <(as_list "${AUDIT_SCAN_ROOTS:-}")
mapfile -t prune < <(as_list "${AUDIT_PRUNE:-}")
mapfile -t skill_targets < <(as_list "${AUDIT_SKILL_TARGETS:-}")
mapfile -t skills < <(as_list "${AUDIT_SKILLS:-}")
mapfile -t verifier_logs < <(as_list "${AUDIT_VERIFIER_LOGS:-}")
limit=${AUDIT_LISTING_LINES:-5000}

search_skills() {
  local prune_args=() p d bounded=()
  for p in "${prune[@]}"; do
    [ ${#prune_args[@]} -gt 0 ] && prune_args+=(-o)
    prune_args+=(-path "$p")
  done
  command -v timeout >/dev/null && bounded=(timeout "${AUDIT_SCAN_SECONDS:-20}")
  "${bounded[@]}" find "${scan_roots[@]}" -xdev \( "${prune_args[@]}" \) -prune -o -iname SKILL.md \
    -printf 'skill_file\t%p\n' 2>/dev/null | head -n 200
  [ "${PIPESTATUS[0]}" = 124 ] && printf 'incomplete\n'
  shopt -s nullglob dotglob
  for d in "${skill_targets[@]}"; do
    local entries=("$d"/*)
    [ ${#entries[@]} -gt 0 ] && printf 'skill_dir\t%s\n' "$d"
  done
  shopt -u nullglob dotglob
}

present_skills() {
  local target skill
  for target in "${skill_targets[@]}"; do
    for skill in "${skills[@]}"; do
      [ -f "$target/$skill/SKILL.md" ] && printf 'present\t%s\n' "$target/$skill/SKILL.md"
    done
  done
}

# Each area's entries with their type, size and mtime (`snap:AREA`): one find an area.
snap() {
  local area=$1 d existing=()
  shift
  for d in "$@"; do [ -e "$d" ] && existing+=("$d"); done
  [ ${#existing[@]} -gt 0 ] || return 0
  find -H "${existing[@]}" -maxdepth 6 -printf "snap:$area\t%p\t%y %s %T@\n" 2>/dev/null
}

# The verifier runs `bash tests/test.sh` with this PATH: every tool in a folder the agent can write to, with type,
# size, mtime and inode. Read-only folders (the local sandbox's toolchain) cannot change, so they are not listed;
# only the names there that a writable folder's tool shadows are (`read-only`), for the diff to tell a new tool
# from one that shadows what the verifier had.
path_tools() {
  local d ro name tool writable=() read_only=() path_dirs=()
  IFS=: read -ra path_dirs <<<"$PATH"
  for d in "${path_dirs[@]}"; do
    case "$d" in /*) ;; *) continue ;; esac
    [ -d "$d" ] || continue
    if [ -w "$d" ]; then writable+=("$d"); else read_only+=("$d"); fi
  done
  [ ${#writable[@]} -gt 0 ] || return 0
  find -H "${writable[@]}" -mindepth 1 -maxdepth 1 -printf 'snap:path_tools\t%p\t%y %s %T@ %i\n' 2>/dev/null
  [ ${#read_only[@]} -gt 0 ] || return 0
  shopt -s nullglob dotglob
  for d in "${writable[@]}"; do
    for tool in "$d"/*; do
      name=${tool##*/}
      for ro in "${read_only[@]}"; do [ -e "$ro/$name" ] && printf 'snap:path_tools\t%s\tread-only\n' "$ro/$name"; done
    done
  done
  shopt -u nullglob dotglob
}

# Digests in one sha256sum: the verifier's interpreter (where it can change) and the files of the skills under test.
digests() {
  local b target skill file files=() hash path
  b=$(command -v bash)
  # On a read-only mount (the local sandbox's toolchain) the interpreter cannot change: no need to read it.
  if [ -n "$b" ] && [ ! -w "$b" ] && [ ! -w "${b%/*}" ]; then
    printf 'snap:interpreter\t%s\tread-only\n' "$b"
  elif [ -n "$b" ]; then
    files+=("$b")
  fi
  shopt -s globstar nullglob dotglob
  for target in "${skill_targets[@]}"; do
    for skill in "${skills[@]}"; do
      for file in "$target/$skill"/**; do
        [ ${#files[@]} -lt "$limit" ] || break
        [ -f "$file" ] && [ ! -L "$file" ] && files+=("$file")
      done
    done
  done
  shopt -u globstar nullglob dotglob
  [ ${#files[@]} -gt 0 ] || return 0
  while read -r hash path; do
    if [ "$path" = "$b" ]; then printf 'snap:interpreter\t%s\t%s\n' "$path" "$hash"; else printf 'snap:skill\t%s\t%s\n' "$path" "$hash"; fi
  done < <(sha256sum -- "${files[@]}" 2>/dev/null)
}

snapshot() {
  snap verifier_logs "${verifier_logs[@]}"
  snap tests "${AUDIT_TESTS:-}"
  snap solution "${AUDIT_SOLUTION:-}"
  path_tools
  digests
}

{
  if [ "${AUDIT_POINT:-}" = before ]; then
    [ "${AUDIT_SEARCH_SKILLS:-0}" = 1 ] && search_skills
    present_skills
  fi
  snapshot
} | head -n "$((limit * 8))"
exit 0
