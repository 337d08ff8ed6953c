#!/bin/bash
# Install what the whole test suite needs, then run the linters, the type checker and the
# tests. Run as root from a clone:
#
#   bash packaging/test.sh              everything
#   bash packaging/test.sh -k watch     arguments go to pytest
#
# Exit code: that of the first step that failed (ruff, mypy, pytest), else 0.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'edgekube test: %s\n' "$*"; }

if [[ $(id -u) != 0 ]]; then
    say "run as root (prefix the command with sudo): the tests use Podman, nftables and namespaces" >&2
    exit 1
fi

# --- Debian packages -----------------------------------------------------------------------
# podman runc nftables busybox-static: pods, Service NAT and test images (tests/e2e);
#   netavark and catatonit are podman's recommends that root pods use, named so that a
#   podman installed without recommends is completed
# postgresql: the HA datastore (tests/ha); iproute2: network namespaces; curl: probes
packages=(python3 python3-venv python3-pip podman netavark catatonit runc nftables busybox-static
          postgresql iproute2 curl ca-certificates)
if ! command -v kubectl >/dev/null 2>&1; then
    packages+=(kubernetes-client)
fi
missing=()
for p in "${packages[@]}"; do
    if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true) != installed ]]; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    # With recommends: the Podman set-up the tests rely on was verified that way.
    apt-get install -y "${missing[@]}"
fi

# --- Python venv -------------------------------------------------------------------------
if [[ -x /usr/bin/python3 ]]; then
    python=/usr/bin/python3
else
    python=$(command -v python3)
fi
if [[ -x .venv/bin/python ]] && ! .venv/bin/python -c 'import sys' >/dev/null 2>&1; then
    say "the .venv is broken; recreating it"
    rm -rf .venv
fi
if [[ ! -x .venv/bin/python ]]; then
    say "creating .venv with $python"
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'

# --- checks ----------------------------------------------------------------------------------
status=0
run() {
    say "$*"
    local rc=0
    "$@" || rc=$?
    if ((rc != 0)); then
        say "$1 failed (exit $rc)"
        if ((status == 0)); then status=$rc; fi
    fi
}
run .venv/bin/ruff check .
run .venv/bin/mypy
run .venv/bin/pytest -q "$@"
exit "$status"
