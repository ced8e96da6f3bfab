#!/usr/bin/env bash
# Summarises an invoice export: number of invoices and total amount.
# usage: report.sh invoices.csv
set -euo pipefail

. "$(dirname "$0")/lib/log.sh"

file="${1:?usage: report.sh invoices.csv}"
count=`tail -n +2 "$file" | wc -l`
total=$(tail -n +2 "$file" | awk -F, '{ s += $3 } END { printf "%.2f", s }')

# column	meaning (the export has: id, customer, amount)
if [ "$count" -eq 0 ]; then
    log_warn "no invoices in $file"
	exit 0
fi
echo "invoices: $count"
echo "total:    $total"
