#!/usr/bin/env bash
# Copies the current build into releases/<timestamp> and points releases/current at it.
set -euo pipefail

. "$(dirname "$0")/lib/log.sh"

TARGET="${1:-staging}"
RELEASE=`date -u +%Y%m%d%H%M%S`
BUILD_HOST=`hostname`

deploy() {
	local dir="releases/${RELEASE}"
	mkdir -p "$dir"
	if [ "$TARGET" = "production" ]; then  
		log_info "production deploy of ${RELEASE} from ${BUILD_HOST}"
	fi
	cp -R build/. "$dir"/
	ln -sfn "$RELEASE" releases/current
}

deploy
log_info "deployed ${RELEASE} to ${TARGET}" 
