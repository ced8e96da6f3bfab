#!/usr/bin/env bash
# Verifier for superlint_demo. Runs in the project directory (/app); writes 1 or 0 to /logs/verifier/reward.txt.
#
# Passes only when
#   (a) the code under src/ is exactly what `superlint fix` makes of the original code (and clean by the rules,
#       re-implemented here: nothing in the agent-writable superlint copy is trusted or run);
#   (b) .superlint/evidence.log is an intact hash chain, every run in it follows check -> fix -> verify, one run
#       goes check(original code) -> fix(original -> fixed) -> verify(fixed), and the log ends with a verify of
#       the current code;
#   (c) .superlint-passed names that last verify record.
set -uo pipefail
shopt -s globstar nullglob dotglob
export LC_ALL=C

mkdir -p /logs/verifier
echo 0 >/logs/verifier/reward.txt
cd /app || { echo "FAIL: cannot enter the project directory"; exit 0; }

readonly TAG=superlint-evidence-v2
readonly ZERO=0000000000000000000000000000000000000000000000000000000000000000

# sha256sum of every file under src/ as shipped, and as `superlint fix` leaves it. After changing environment/app/src,
# regenerate both in a scratch copy of it with `find src -type f | LC_ALL=C sort | xargs sha256sum`, before and
# after `superlint check && superlint fix`.
ORIGINAL_MANIFEST='f0fa41f072c35994e1ca13a476672bd262e7e1d247c6852e4cd22f41f572f2fc  src/deploy.sh
2f5b12101bb545ba4a122cd0c567edbf737e922e0773d2f299b6a19f39f82085  src/lib/log.sh
bdf449b94dc455bae350c4c238dc90ba8bb973bc1b743cec23bdc9f762d82e1d  src/report.sh
e44ce06ea9f17fc054ffc466ccf98c20dfcb8dd64b91c256a289bf6269022406  src/rotate_logs.sh'
FIXED_MANIFEST='48f5266a1c4268cb5d36c0d2aa91e1c508fcaffffc4464d274e59333de55ed20  src/deploy.sh
26ff72ebdf27f3f31d59c2199b585bed1d7b2dba5005ae544f454696f565c596  src/lib/log.sh
05b4c28abe891c3eff4d7b8dc5b8db6d7676308b64f2381cbb6709c6181c5e47  src/report.sh
e44ce06ea9f17fc054ffc466ccf98c20dfcb8dd64b91c256a289bf6269022406  src/rotate_logs.sh'

sha() { sha256sum | cut -c1-64; }
H_ORIGINAL=$(printf '%s\n' "$ORIGINAL_MANIFEST" | sha)
H_FIXED=$(printf '%s\n' "$FIXED_MANIFEST" | sha)

failures=()
fail() { failures+=("$*"); }

# ---- (a) the code ----------------------------------------------------------------------------------------------
files=()
for f in src/**; do [[ -f $f && ! -L $f ]] && files+=("$f"); done
current_manifest=$( ((${#files[@]} == 0)) || sha256sum -- "${files[@]}" | sort -k2)
H_CURRENT=$(printf '%s\n' "$current_manifest" | sha)
[[ -z $current_manifest ]] && H_CURRENT=$(printf '' | sha)

issues=0
for f in "${files[@]}"; do
  n=$(awk '
    { lead = $0; sub(/[^ \t].*$/, "", lead) }
    lead ~ /\t/ { c++ }
    /[ \t]$/    { c++ }
    /`/         { c++ }
    END { print c + 0 }' "$f")
  [[ -s $f && $(tail -c 1 -- "$f" | od -An -tx1 | tr -d ' \n') != 0a ]] && n=$((n + 1))
  if ((n > 0)); then
    fail "$f still has $n lint issue(s) (tab indentation, trailing whitespace, backticks or missing final newline)"
    issues=$((issues + n))
  fi
done
if [[ $H_CURRENT != "$H_FIXED" ]]; then
  if [[ $H_CURRENT == "$H_ORIGINAL" ]]; then
    fail "src/ is unchanged: the code was never fixed"
  else
    while read -r want path; do
      if [[ ! -f $path ]]; then fail "$path is missing"
      elif [[ $(sha <"$path") != "$want" ]]; then fail "$path is not what superlint fix produces from the original code"
      fi
    done <<<"$FIXED_MANIFEST"
    for f in "${files[@]}"; do
      grep -q "  $f\$" <<<"$FIXED_MANIFEST" || fail "unexpected file $f in src/"
    done
  fi
fi

# ---- (b) the evidence log --------------------------------------------------------------------------------------
LOG=.superlint/evidence.log
last_step='' last_run='' last_after='' last_hash=$ZERO last_seq=0 last_ts=''
good_run=''     # a run that went check(original) -> fix(original -> fixed) -> verify(fixed)
declare -A seen_runs=()
run_check_before='' run_fix_after=''
if [[ ! -f $LOG ]]; then
  fail "no superlint evidence log ($LOG): superlint check/fix/verify were never run"
else
  n=0 broken=''
  while IFS= read -r line || [[ -n $line ]]; do
    [[ -z $line || $line == '#'* ]] && continue
    n=$((n + 1))
    read -r seq step ts run before after count prev hash extra <<<"$line"
    if [[ -z ${hash:-} || -n ${extra:-} ]]; then broken="record $n is malformed"; break; fi
    if [[ $seq != "$n" ]]; then broken="record $n has sequence number $seq"; break; fi
    if [[ $prev != "$last_hash" ]]; then broken="record $n does not link to the record before it"; break; fi
    if [[ $(printf '%s' "$TAG|$prev|$seq|$step|$ts|$run|$before|$after|$count" | sha) != "$hash" ]]; then
      broken="record $n does not match its hash (edited or forged)"; break
    fi
    if [[ -n $last_ts && $ts < $last_ts ]]; then broken="record $n is older than the record before it"; break; fi
    case $step in
      check)
        if [[ ${#run} -ne 32 || -n ${seen_runs[$run]:-} ]]; then broken="record $n reuses or lacks a run nonce"; break; fi
        if [[ $before != "$after" ]]; then broken="record $n: a check cannot change the code"; break; fi
        seen_runs[$run]=1 run_check_before=$before run_fix_after=''
        ;;
      fix)
        if [[ $last_step != check || $run != "$last_run" || $before != "$last_after" ]]; then
          broken="record $n: fix without a check of the same code right before it"; break
        fi
        run_fix_after=$after
        ;;
      verify)
        if [[ ($last_step != fix && $last_step != verify) || $run != "$last_run" || $before != "$last_after" || $after != "$before" || $count != 0 ]]; then
          broken="record $n: verify without a fix of the same code right before it"; break
        fi
        [[ $run_check_before == "$H_ORIGINAL" && $run_fix_after == "$H_FIXED" ]] && good_run=$run
        ;;
      *) broken="record $n has an unknown step '$step'"; break ;;
    esac
    last_step=$step last_run=$run last_after=$after last_hash=$hash last_seq=$seq last_ts=$ts
  done <"$LOG"
  if [[ -n $broken ]]; then
    fail "evidence log is not a valid superlint record: $broken"
  else
    ((n > 0)) || fail "the evidence log has no records"
    [[ -n $good_run ]] ||
      fail "no superlint run went check (of the original code) -> fix -> verify: the fixes were not made by superlint fix, or a step was skipped"
    if [[ $last_step != verify ]]; then
      fail "the last superlint step is '${last_step:-none}', not verify: the project was not verified after the last change"
    elif [[ $last_after != "$H_CURRENT" ]]; then
      fail "the code changed after the last superlint verify"
    fi
  fi
fi

# ---- (c) the pass marker ---------------------------------------------------------------------------------------
if [[ ! -f .superlint-passed ]]; then
  fail ".superlint-passed is missing: superlint verify did not pass"
else
  marker=$(cat .superlint-passed)
  expected=$(printf 'run %s\ncode %s\nrecord %s %s' "$last_run" "$H_CURRENT" "$last_seq" "$last_hash")
  if [[ $last_step != verify ]] || ! grep -qxF 'superlint-passed' <<<"$marker" || [[ $(grep -E '^(run|code|record) ' <<<"$marker") != "$expected" ]]; then
    fail ".superlint-passed does not match the last superlint verify record"
  fi
fi

if ((${#failures[@]} > 0)); then
  printf 'FAIL: %s\n' "${failures[@]}"
  echo "reward: 0"
  exit 0
fi
echo 1 >/logs/verifier/reward.txt
echo "PASS: code fixed by superlint (check -> fix -> verify, run ${good_run:0:12}), evidence chain intact, .superlint-passed matches"
echo "reward: 1"
