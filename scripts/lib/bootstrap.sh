# shellcheck shell=bash
# Shared bootstrap for scripts/run and scripts/test. Source it; do not execute it.
#
#   ROOT                      repository root (set here)
#   bootstrap_apt PKG...      install the Debian packages that are missing (root, or sudo -n)
#   bootstrap_venv            create/refresh .venv: python3 -m venv + pip install -e '.[dev]'
#   bootstrap_synapse_venv    create/refresh .venv-synapse (the Matrix test server) with pip install matrix-synapse
#
# Everything is idempotent and cheap when nothing changed, so both scripts call it on every run.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"

# Debian packages the app itself needs at runtime: the Qt xcb platform plugin's libraries, and an emoji font.
APP_APT_PACKAGES=(
    libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxkbcommon-x11-0 libxcb-image0
    libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libegl1 libgl1 libfontconfig1 libdbus-1-3
    fonts-noto-color-emoji  # emoji in colour, not as empty boxes (ui/fonts.py makes it the emoji fallback)
)
# ... plus what the test suite needs: real servers, a Secret Service, a D-Bus session, an X server.
TEST_APT_PACKAGES=(
    "${APP_APT_PACKAGES[@]}"
    prosody lua-dbi-sqlite3 inspircd atheme-services postgresql
    gnome-keyring libsecret-tools dbus dbus-x11
    xvfb xauth
    clamav-daemon  # clamd for the file scanning tests (tests/servers/clamd.py), started offline
    desktop-file-utils appstream  # desktop-file-validate, appstreamcli validate (tests/cli/test_desktop.py)
)

log() { printf '%s\n' "$*" >&2; }
section() { printf '== %s ==\n' "$*" >&2; }

_pkg_installed() {
    # A package counts as present only when dpkg says "installed" (not "config-files", not unknown).
    # One line per installed architecture, hence grep rather than a string comparison.
    # (Captured first: `dpkg-query | grep -q` could die of SIGPIPE and read as "missing" under pipefail.)
    local status
    status="$(dpkg-query -W -f='${db:Status-Status}\n' "$1" 2>/dev/null)" || return 1
    [[ $'\n'$status$'\n' == *$'\n'installed$'\n'* ]]
}

_as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo -n "$@"
    else
        return 126
    fi
}

bootstrap_apt() {
    local missing=() p
    # Debian's own python3 has no ensurepip/venv until python3-venv is installed.
    if [[ ! -x $VENV/bin/python ]] && ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
        missing+=(python3-venv)
    fi
    for p in "$@"; do
        _pkg_installed "$p" || missing+=("$p")
    done
    ((${#missing[@]})) || return 0

    section "apt: installing ${missing[*]}"
    if ! _as_root true; then
        log "error: these Debian packages are missing and installing them needs root (or passwordless sudo):"
        log "  apt-get install ${missing[*]}"
        return 1
    fi

    # Keep package maintainer scripts from starting system services (prosody, inspircd, atheme,
    # postgresql would bind their default ports). Tests start their own instances on free loopback
    # ports. If the machine already has a policy-rc.d we leave it alone; otherwise we add a
    # temporary one that denies every start, and remove it again afterwards.
    # Both invoke-rc.d (sysvinit) and deb-systemd-invoke (systemd) honour it.
    local policy=/usr/sbin/policy-rc.d added_policy=0
    if [[ ! -e $policy ]]; then
        # Removed again below, or by the trap if we are interrupted in between.
        trap "_as_root rm -f $policy" EXIT
        _as_root sh -c "printf '#!/bin/sh\n# temporary, added by aggregator scripts/lib/bootstrap.sh\nexit 101\n' > $policy && chmod 755 $policy"
        added_policy=1
    fi
    local rc=0 apt_opts=(-q -o DPkg::Lock::Timeout=300)
    _as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update </dev/null >&2 || rc=$?
    if ((rc == 0)); then
        _as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
            "${missing[@]}" </dev/null >&2 || rc=$?
    fi
    if ((added_policy)); then
        _as_root rm -f "$policy" || true
        trap - EXIT
    fi
    ((rc == 0)) || { log "error: apt-get failed (exit $rc)"; return "$rc"; }

    # Services were not started, but on a systemd machine they are enabled for the next boot.
    # Disable the ones we just installed: the test suite never uses the system instances.
    # Best effort: no systemd (containers, CI images) or no unit -> nothing to do.
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
        local unit
        for unit in prosody inspircd atheme-services postgresql; do
            if [[ " ${missing[*]} " == *" $unit "* ]]; then
                _as_root systemctl disable --now "$unit" >/dev/null 2>&1 || true
            fi
        done
    fi
}

_venv_stamp() {
    # Anything that should trigger a reinstall: the dependency list and the interpreter.
    {
        cat "$ROOT/pyproject.toml"
        "$VENV/bin/python" -c 'import sys; print(sys.version)'
    } | sha256sum | cut -d' ' -f1
}

bootstrap_venv() {
    local stamp_file="$VENV/.bootstrap-pyproject.sha256" want
    if [[ -e $VENV ]] && ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
        # e.g. the interpreter it points to is gone, or an earlier `python3 -m venv` died without pip
        log "warning: $VENV is broken (no working python/pip in it); recreating it"
        rm -rf "$VENV"
    fi
    if [[ ! -x $VENV/bin/python ]]; then
        section "venv: creating .venv"
        python3 -m venv "$VENV"
    fi
    want="$(_venv_stamp)"
    if [[ -f $stamp_file && "$(cat "$stamp_file")" == "$want" ]]; then
        return 0
    fi
    section "venv: pip install -e '.[dev]'"
    rm -f "$stamp_file"
    "$VENV/bin/python" -m pip install -q --upgrade pip </dev/null >&2
    "$VENV/bin/python" -m pip install -q -e "$ROOT[dev]" </dev/null >&2
    printf '%s\n' "$want" >"$stamp_file"
}

# ---------------------------------------------------------------------------------------------------
# Synapse (Matrix test server) venv: .venv-synapse, separate so that its pins never fight the project's
# (see /work/shared/facts/servers.md section 3). tests/servers/synapse.py runs
# .venv-synapse/bin/python -m synapse.app.homeserver. Reinstalled only when the stamp (the pin and the
# interpreter) changes. SYNAPSE_REQUIREMENT overrides the pin.
# ---------------------------------------------------------------------------------------------------
SYNAPSE_VENV="$ROOT/.venv-synapse"
SYNAPSE_REQUIREMENT="${SYNAPSE_REQUIREMENT:-matrix-synapse>=1.163,<1.164}"

bootstrap_synapse_venv() {
    local stamp_file="$SYNAPSE_VENV/.bootstrap-synapse.sha256" want
    if [[ -e $SYNAPSE_VENV ]] && ! "$SYNAPSE_VENV/bin/python" -m pip --version >/dev/null 2>&1; then
        log "warning: $SYNAPSE_VENV is broken (no working python/pip in it); recreating it"
        rm -rf "$SYNAPSE_VENV"
    fi
    if [[ ! -x $SYNAPSE_VENV/bin/python ]]; then
        section "venv: creating .venv-synapse"
        python3 -m venv "$SYNAPSE_VENV"
    fi
    want="$(
        {
            printf '%s\n' "$SYNAPSE_REQUIREMENT"
            "$SYNAPSE_VENV/bin/python" -c 'import sys; print(sys.version)'
        } | sha256sum | cut -d' ' -f1
    )"
    if [[ -f $stamp_file && "$(cat "$stamp_file")" == "$want" ]] \
        && "$SYNAPSE_VENV/bin/python" -c 'import synapse' >/dev/null 2>&1; then
        return 0
    fi
    section "venv: pip install '$SYNAPSE_REQUIREMENT' into .venv-synapse (about 30 s)"
    rm -f "$stamp_file"
    "$SYNAPSE_VENV/bin/python" -m pip install -q --upgrade pip </dev/null >&2
    "$SYNAPSE_VENV/bin/python" -m pip install -q "$SYNAPSE_REQUIREMENT" </dev/null >&2
    printf '%s\n' "$want" >"$stamp_file"
}
