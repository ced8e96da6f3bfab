#!/usr/bin/env bash
# Oracle: builds reports/sales_by_region.txt in HOUSE-REPORT/2 format with awk and coreutils only.
set -euo pipefail
export LC_ALL=C

src=data/sales.csv
out=reports/sales_by_region.txt
mkdir -p reports
body=$(mktemp "${TMPDIR:-/tmp}/house-report.XXXXXX")
trap 'rm -f "$body"' EXIT

awk -F, -v src="$src" '
  function money(c) { return sprintf("%d.%02d", int(c / 100), c % 100) }
  function avg(c, u) { return u > 0 ? money(int((2 * c + u) / (2 * u))) : "0.00" }   # half up, in cents
  NR == 1 { next }
  {
    key = toupper($2); units = $4 + 0
    split($5, p, "."); cents = units * (p[1] * 100 + substr(p[2] "00", 1, 2))
    if (!(key in orders)) keys[++n] = key
    orders[key]++; u[key] += units; c[key] += cents
    rows++; tu += units; tc += cents
    if (first == "" || $1 < first) first = $1
    if (last == "" || $1 > last) last = $1
  }
  END {
    # revenue descending, then region ascending (insertion sort: a handful of groups)
    for (i = 2; i <= n; i++) {
      k = keys[i]
      for (j = i - 1; j >= 1 && (c[keys[j]] < c[k] || (c[keys[j]] == c[k] && keys[j] > k)); j--) keys[j + 1] = keys[j]
      keys[j + 1] = k
    }
    print "HOUSE-REPORT/2 sales-by-region"
    printf "source=%s rows=%d period=%s..%s\n", src, rows, first, last
    print "REGION;ORDERS;UNITS;REVENUE;AVG_PRICE"
    for (i = 1; i <= n; i++) { k = keys[i]; printf "%s;%d;%d;%s;%s\n", k, orders[k], u[k], money(c[k]), avg(c[k], u[k]) }
    printf "TOTAL;%d;%d;%s;%s\n", rows, tu, money(tc), avg(tc, tu)
  }' "$src" >"$body"

{ cat "$body"; printf 'CHECKSUM %s\n' "$(cksum <"$body")"; } >"$out"
cat "$out"
