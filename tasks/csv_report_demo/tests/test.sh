#!/usr/bin/env bash
# Verifier for csv_report_demo. Runs in the project directory (/app); writes 1 or 0 to /logs/verifier/reward.txt.
# The report must be byte-for-byte the HOUSE-REPORT/2 sales-by-region report of the untouched data/sales.csv.
set -uo pipefail
export LC_ALL=C

mkdir -p /logs/verifier
echo 0 >/logs/verifier/reward.txt
cd /app || { echo "FAIL: cannot enter the project directory"; exit 0; }

REPORT=reports/sales_by_region.txt
DATA_SHA256=92b76bc8eca6ae4552e1a21763d8799499764b7c4eb8e74d8b89a847f11b8a4d
EXPECTED='HOUSE-REPORT/2 sales-by-region
source=data/sales.csv rows=16 period=2024-03-01..2024-03-29
REGION;ORDERS;UNITS;REVENUE;AVG_PRICE
SOUTH;4;31;274.55;8.86
EAST;4;22;227.41;10.34
NORTH;4;27;224.55;8.32
WEST;4;8;90.36;11.30
TOTAL;16;88;816.87;9.28
CHECKSUM 1190679455 243'
NAMES=(title source columns group group group group total checksum)

failures=()
fail() { failures+=("$*"); }

if [[ ! -f data/sales.csv ]] || [[ $(sha256sum <data/sales.csv | cut -c1-64) != "$DATA_SHA256" ]]; then
  fail "data/sales.csv was changed or removed: the report must be built from the original data"
fi

if [[ ! -f $REPORT ]]; then
  fail "$REPORT does not exist"
else
  actual=$(cat -- "$REPORT"; echo x)   # keep trailing newlines visible
  actual=${actual%x}
  if [[ $actual != "$EXPECTED"$'\n' ]]; then
    [[ $actual == *$'\r'* ]] && fail "$REPORT has CR characters: house reports use LF line endings"
    [[ -n $actual && $actual != *$'\n' ]] && fail "$REPORT does not end with a newline"
    mapfile -t got <<<"${actual%$'\n'}"
    mapfile -t want <<<"$EXPECTED"
    ((${#got[@]} == ${#want[@]})) || fail "$REPORT has ${#got[@]} line(s); expected ${#want[@]}"
    for i in "${!want[@]}"; do
      if [[ ${got[i]-} != "${want[i]}" ]]; then
        fail "line $((i + 1)) (${NAMES[i]}): expected '${want[i]}', got '${got[i]-<missing>}'"
        break
      fi
    done
    # The checksum line must at least be right for the lines above it.
    last=${got[${#got[@]} - 1]-}
    if ((${#got[@]} > 1)); then
      body=$(printf '%s\n' "${got[@]:0:${#got[@]}-1}" | cksum)
      [[ $last == "CHECKSUM $body" ]] || fail "the last line should be 'CHECKSUM $body' (cksum of the lines above it); got '$last'"
    fi
    ((${#failures[@]} > 0)) || fail "$REPORT differs from the expected report"
  fi
fi

if ((${#failures[@]} > 0)); then
  printf 'FAIL: %s\n' "${failures[@]}"
  echo "reward: 0"
  exit 0
fi
echo 1 >/logs/verifier/reward.txt
echo "PASS: $REPORT is a valid HOUSE-REPORT/2 sales-by-region report"
echo "reward: 1"
