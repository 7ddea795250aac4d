#!/usr/bin/env bash
# Run "$@" with a throwaway, unlocked gnome-keyring as the Secret Service.
# Must itself run inside a private D-Bus session:
#     dbus-run-session -- bash scripts/lib/keyring-session.sh CMD [ARGS...]
# The keyring files live in a temporary XDG_DATA_HOME, never in the user's ~/.local/share/keyrings.
set -euo pipefail

if [[ -z ${DBUS_SESSION_BUS_ADDRESS:-} ]]; then
    echo "keyring-session.sh: no D-Bus session; run me under dbus-run-session" >&2
    exit 2
fi

scratch="$(mktemp -d "${TMPDIR:-/tmp}/aggregator-keyring.XXXXXX")"
keyring_pid=""
watchdog_pid=""
cleanup() {
    [[ -n $watchdog_pid ]] && kill "$watchdog_pid" 2>/dev/null || true
    [[ -n $keyring_pid ]] && kill "$keyring_pid" 2>/dev/null || true
    rm -rf "$scratch"
}
trap cleanup EXIT

mkdir -m 700 "$scratch/data" "$scratch/runtime"
export XDG_DATA_HOME="$scratch/data" XDG_RUNTIME_DIR="$scratch/runtime"

# --unlock reads the password from stdin, creates the "login" collection and unlocks it; without
# --unlock keyring later fails with "Prompt dismissed" (facts/libraries.md section 6).
password="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s' "$password" | gnome-keyring-daemon --daemonize --unlock --components=secrets >/dev/null

# Wait until the daemon owns org.freedesktop.secrets (NameHasOwner does not trigger D-Bus activation,
# which would start a second, locked daemon).
for _ in $(seq 50); do
    if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
        break
    fi
    sleep 0.1
done
keyring_pid="$(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets 2>/dev/null \
    | awk '/uint32/ {print $2}')" || true
if [[ -z $keyring_pid ]]; then
    echo "keyring-session.sh: gnome-keyring-daemon did not register org.freedesktop.secrets" >&2
    exit 1
fi

# Watchdog: if the daemon ever goes away mid-run (seen a few times under heavy load, cause unknown),
# D-Bus activation would start a second, LOCKED daemon and every later keyring call would fail with
# "Prompt dismissed". Say so loudly and put a fresh unlocked daemon in its place (--replace takes the
# name over from an activated one), so one lost test does not turn into hundreds.
watchdog() {
    local pid=$1 new
    while sleep 0.5; do
        kill -0 "$pid" 2>/dev/null && continue
        echo "keyring-session.sh: gnome-keyring-daemon (pid $pid) is gone; starting a new unlocked one" >&2
        printf '%s' "$password" | gnome-keyring-daemon --replace --daemonize --unlock --components=secrets >/dev/null || true
        sleep 0.5
        new="$(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
            org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets 2>/dev/null \
            | awk '/uint32/ {print $2}')" || true
        [[ -n $new ]] && pid=$new
    done
}
watchdog "$keyring_pid" &
watchdog_pid=$!

rc=0
"$@" || rc=$?
kill "$watchdog_pid" 2>/dev/null || true
exit "$rc"
