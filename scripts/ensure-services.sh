#!/usr/bin/env bash
# Debian's redis-server and PostgreSQL for the several-process tests
# (tests/test_several_processes.py). The tests start their own servers on loopback, on
# free ports, with data under a temporary folder: only the programs are needed here, so
# no system service is left running (policy-rc.d stops the packages from starting one).
set -euo pipefail

missing=()
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "Needs ${missing[*]}: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
guard=/usr/sbin/policy-rc.d
made_guard=""
if [ ! -e "$guard" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$guard" && chmod +x "$guard" && made_guard=1
fi
trap '[ -n "$made_guard" ] && rm -f "$guard"' EXIT
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "Installed ${missing[*]}."
