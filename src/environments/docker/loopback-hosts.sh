#!/usr/bin/env bash
# Names the loopback addresses in a container the engine wrote no /etc/hosts for (one without a network sandbox,
# see skipsNetworkSandbox in limits.ts): what Docker writes for `network_mode = "none"`, minus the multicast names.
# Pure bash builtins, no process started; only when /etc/hosts is empty and writable (root), so a hosts file the
# engine mounted is never touched. Prepended to keepalive.sh (PID 1) and exec.sh (the first exec may beat PID 1).
[ -s /etc/hosts ] || { [ -w /etc/hosts ] && printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >>/etc/hosts; } 2>/dev/null
