#!/bin/sh
# Install EdgeKube from this clone and start a single-node control plane.
#
#   sh packaging/install.sh                      install or upgrade, then (re)start the server
#   sh packaging/install.sh --uninstall          stop and remove the service, venv and command
#   sh packaging/install.sh --uninstall --purge  ...and also the data, config and log
#
# Run as root on Debian 12 / Raspberry Pi OS (bookworm).
# EDGEKUBE_PREFIX (default /opt/edgekube) is where the venv goes.
set -eu

PREFIX=${EDGEKUBE_PREFIX:-/opt/edgekube}
VENV=$PREFIX/venv
BIN_LINK=/usr/local/bin/edgekube
CONFIG_DIR=/etc/edgekube
CONFIG_FILE=$CONFIG_DIR/config.yaml
DATA_DIR=/var/lib/edgekube
UNIT_DIR=/etc/systemd/system
UNIT=edgekube-server.service
LOG_FILE=/var/log/edgekube-server.log
PID_FILE=/run/edgekube-server.pid
READY_TIMEOUT=${EDGEKUBE_READY_TIMEOUT:-90}

SRC=$(cd "$(dirname "$0")/.." && pwd)

say() { printf 'edgekube install: %s\n' "$*"; }
die() { printf 'edgekube install: error: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
}

UNINSTALL=0
PURGE=0
for arg in "$@"; do
    case $arg in
        --uninstall) UNINSTALL=1 ;;
        --purge) PURGE=1 ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $arg" ;;
    esac
done
if [ "$PURGE" = 1 ] && [ "$UNINSTALL" = 0 ]; then
    die "--purge goes with --uninstall"
fi
[ "$(id -u)" = 0 ] || die "run as root (prefix the command with sudo)"

have_systemd() { [ -d /run/systemd/system ]; }

# A setting as the server will see it: environment, else the config file, else the default.
# Only plain "key: value" lines of the config file are understood here.
setting() {
    env_name=EDGEKUBE_$(printf '%s' "$1" | tr 'a-z-' 'A-Z_')
    value=$(printenv "$env_name" || true)
    if [ -z "$value" ] && [ -f "$CONFIG_FILE" ]; then
        value=$(sed -n "s/^$1:[[:space:]]*\\([^#]*\\).*\$/\\1/p" "$CONFIG_FILE" | tail -n 1 \
            | sed "s/[[:space:]]*\$//; s/^[\"']//; s/[\"']\$//")
    fi
    printf '%s\n' "${value:-$2}"
}

# pid of the server this script started without systemd, if it is still running
running_pid() {
    [ -f "$PID_FILE" ] || return 1
    pid=$(cat "$PID_FILE" 2>/dev/null || true)
    case $pid in ''|*[!0-9]*) return 1 ;; esac
    [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'edgekube server' || return 1
    printf '%s\n' "$pid"
}

stop_background() {
    if pid=$(running_pid); then
        say "stopping edgekube server (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        i=0
        while [ -d "/proc/$pid" ] && [ "$i" -lt 30 ]; do
            sleep 1
            i=$((i + 1))
        done
        if [ -d "/proc/$pid" ]; then
            say "server did not stop in 30 s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$PID_FILE"
}

stop_server() {
    if have_systemd && [ -f "$UNIT_DIR/$UNIT" ]; then
        systemctl disable --now "$UNIT" || true
    fi
    stop_background
}

uninstall() {
    stop_server
    # The agent's network (bridge, routes, nftables tables) outlives the process on purpose
    # (pods keep working while it restarts); an uninstall removes it.
    if [ -x "$VENV/bin/edgekube" ]; then
        "$VENV/bin/edgekube" agent --cleanup || say "network cleanup failed; see above"
    fi
    if [ -f "$UNIT_DIR/$UNIT" ]; then
        rm -f "$UNIT_DIR/$UNIT"
        if have_systemd; then systemctl daemon-reload; fi
    fi
    if [ -L "$BIN_LINK" ]; then rm -f "$BIN_LINK"; fi
    rm -rf "$VENV"
    rmdir "$PREFIX" 2>/dev/null || true
    if [ "$PURGE" = 1 ]; then
        data_dir=$(setting data-dir "$DATA_DIR")
        case $data_dir in
            /*/*) rm -rf "$data_dir" ;;
            *) say "not removing data-dir '$data_dir' (not an absolute path below /)" ;;
        esac
        rm -rf "$DATA_DIR" "$CONFIG_DIR" "$LOG_FILE"
        say "removed EdgeKube, its data ($data_dir) and its configuration ($CONFIG_DIR)"
    else
        say "removed EdgeKube; kept data in $DATA_DIR and configuration in $CONFIG_DIR (--purge removes them)"
    fi
}

if [ "$UNINSTALL" = 1 ]; then
    uninstall
    exit 0
fi

[ -f "$SRC/pyproject.toml" ] || die "run this script from a clone of EdgeKube ($SRC has no pyproject.toml)"

# --- Debian packages -------------------------------------------------------------------
installed() {
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

# Podman (with runc, netavark and catatonit) runs the pods of the embedded agent;
# nftables and iproute2 carry pod networking and Service NAT.
packages="python3 python3-venv python3-pip ca-certificates curl podman runc netavark catatonit nftables iproute2"
if ! command -v kubectl >/dev/null 2>&1; then
    packages="$packages kubernetes-client"
fi
missing=""
for p in $packages; do
    installed "$p" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    say "installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    # shellcheck disable=SC2086  # a list of package names
    apt-get install -y --no-install-recommends $missing
fi

# --- Python venv with the project --------------------------------------------------------
if [ -x /usr/bin/python3 ]; then
    PYTHON=/usr/bin/python3
else
    PYTHON=$(command -v python3) || die "no python3 found"
fi

if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    say "the venv at $VENV is broken; recreating it"
    rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV with $PYTHON"
    mkdir -p "$PREFIX"
    "$PYTHON" -m venv "$VENV"
fi
say "installing EdgeKube from $SRC into $VENV"
# Build from a clean copy: setuptools leaves build/ in the source folder, and stale files
# there (modules removed since) would end up in the installed package.
# pip always reinstalls a project given as a folder, so this also upgrades in place.
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
tar -C "$SRC" --exclude=./.git --exclude=./.venv --exclude=./build --exclude='*.egg-info' \
    --exclude='__pycache__' --exclude='./.*_cache' -cf - . | tar -C "$staging" -xf -
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$staging"
rm -rf "$staging"
trap - EXIT
ln -sfn "$VENV/bin/edgekube" "$BIN_LINK"
"$BIN_LINK" version

# --- configuration -------------------------------------------------------------------------
mkdir -p "$CONFIG_DIR"
if [ ! -f "$CONFIG_FILE" ]; then
    say "writing $CONFIG_FILE"
    cat >"$CONFIG_FILE" <<'EOF'
# EdgeKube server configuration. Keys are the flag names of `edgekube server --help`.
# Precedence: command-line flag > EDGEKUBE_* environment variable > this file > default.
# Uncomment and edit a line, then restart the server.

# data-dir: /var/lib/edgekube
# bind-address: 0.0.0.0
# https-listen-port: 6443
# advertise-address: ""
# tls-san:
#   - edgekube.example.lan
# write-kubeconfig: /etc/edgekube/edgekube.yaml
# write-kubeconfig-mode: "0600"
# token: ""                       # generated on first start and kept in the data dir
# datastore-endpoint: ""          # default: SQLite at <data-dir>/server/state.db
# cluster-cidr: 10.42.0.0/16
# service-cidr: 10.43.0.0/16
# cluster-dns: 10.43.0.10
# disable-agent: false
# node-name: ""                   # default: the host name
# node-ip: ""
# node-label:
#   - site=depot
# log-format: auto                # auto, console or json
# log-level: info                 # debug, info, warning or error
EOF
    chmod 0644 "$CONFIG_FILE"
else
    say "keeping existing $CONFIG_FILE"
fi

# --- service -------------------------------------------------------------------------------
mkdir -p "$UNIT_DIR"
install -m 0644 "$SRC/systemd/$UNIT" "$UNIT_DIR/$UNIT"

if have_systemd; then
    stop_background  # a server started by an earlier run without systemd
    systemctl daemon-reload
    systemctl enable "$UNIT"
    say "restarting $UNIT"
    systemctl restart "$UNIT"
else
    say "systemd is not running; starting the server in the background"
    stop_background
    mkdir -p "$(dirname "$LOG_FILE")" "$(dirname "$PID_FILE")"
    # setsid: its own session, so it outlives this shell and its terminal.
    setsid nohup "$BIN_LINK" server </dev/null >>"$LOG_FILE" 2>&1 &
    echo $! >"$PID_FILE"
    say "edgekube server started (pid $(cat "$PID_FILE")), logging to $LOG_FILE"
fi

# --- wait until ready ----------------------------------------------------------------------
port=$(setting https-listen-port 6443)
kubeconfig=$(setting write-kubeconfig "$CONFIG_DIR/edgekube.yaml")
say "waiting up to ${READY_TIMEOUT}s for https://127.0.0.1:$port/readyz"
i=0
until curl -ksf --max-time 5 "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && [ -f "$kubeconfig" ]; do
    i=$((i + 1))
    if [ "$i" -ge "$READY_TIMEOUT" ]; then
        if have_systemd; then
            systemctl --no-pager status "$UNIT" || true
            journalctl --no-pager -n 40 -u "$UNIT" || true
        else
            tail -n 40 "$LOG_FILE" || true
        fi
        die "the server did not become ready in ${READY_TIMEOUT}s"
    fi
    if ! have_systemd && ! running_pid >/dev/null; then
        tail -n 40 "$LOG_FILE" || true
        die "the server exited; see $LOG_FILE"
    fi
    sleep 1
done

if have_systemd; then
    logs="journalctl -u $UNIT"
else
    logs="tail $LOG_FILE"
fi
cat <<EOF

EdgeKube (control plane and embedded agent) is running on https://127.0.0.1:$port (data in $(setting data-dir "$DATA_DIR")).
Use it with kubectl:

    export KUBECONFIG=$kubeconfig
    kubectl get nodes

Logs: $logs
Settings: $CONFIG_FILE (then run this script again, or restart the server)
Remove: sh packaging/install.sh --uninstall [--purge]
EOF
