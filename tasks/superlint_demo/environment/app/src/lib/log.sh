# Shared logging helpers (sourced, not executed).

log_info() {
    printf '[%s] INFO  %s\n' "$(date -u +%H:%M:%S)" "$*" 
}

log_warn() {
	printf '[%s] WARN  %s\n' "`date -u +%H:%M:%S`" "$*" >&2
}