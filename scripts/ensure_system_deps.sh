#!/usr/bin/env bash
# Make sure the Debian/Ubuntu packages Exchange Station needs are installed.
#
#   scripts/ensure_system_deps.sh                      system libraries (ECOSYSTEM.md section 9)
#   scripts/ensure_system_deps.sh --python-venv [PY]   what `PY -m venv` needs (python3-venv)
#
# Fast path: a single dpkg-query call; apt-get is only touched when something is missing.
# Missing packages are installed with apt-get when running as root; otherwise the exact
# `sudo apt-get ...` command is printed and the script exits 1 so that `make` stops.
#
# Environment:
#   EXCHANGE_EXTRA_APT_PACKAGES   extra package names to require (space separated; also used
#                                 to test the "missing package" path)
#   EXCHANGE_SKIP_SYSTEM_DEPS=1   skip every check (you manage the libraries yourself)
set -euo pipefail

me="ensure_system_deps"

# One entry per requirement; "new|old" lists alternatives (Debian 13 / Ubuntu 24.04 renamed
# some libraries with a t64 suffix). The first name apt knows is installed.
SYSTEM_PACKAGES=(
    # offscreen Qt widgets + printing to PDF
    libgl1 libegl1 "libglib2.0-0t64|libglib2.0-0" libfontconfig1 libfreetype6 libdbus-1-3
    libxkbcommon0 libx11-6 "libcups2t64|libcups2" fonts-dejavu-core
    # QtMultimedia import (libQt6Multimedia needs libpulse.so.0, which pulls in ALSA) + pyzbar
    libpulse0 "libasound2t64|libasound2" libzbar0
    # xcb platform under Xvfb (Qt >= 6.5 requires xcb-cursor)
    libxkbcommon-x11-0 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0
    libxcb-keysyms1 libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0
    libxcb-sync1 libxcb-xfixes0 libxcb-xkb1 libxcb-glx0 libxcb-util1
    xvfb xauth
    # test tooling
    poppler-utils postgresql
)

say() { printf '%s: %s\n' "$me" "$*" >&2; }

if [[ "${EXCHANGE_SKIP_SYSTEM_DEPS:-}" == 1 ]]; then
    say "EXCHANGE_SKIP_SYSTEM_DEPS=1: not checking system packages"
    exit 0
fi

mode=system
python_bin=python3
if [[ "${1:-}" == --python-venv ]]; then
    mode=venv
    python_bin="${2:-python3}"
elif [[ $# -gt 0 ]]; then
    say "usage: $0 [--python-venv [PYTHON]]"
    exit 2
fi

requirements=()
if [[ $mode == system ]]; then
    requirements=("${SYSTEM_PACKAGES[@]}")
else
    # Debian splits ensurepip out of the interpreter: python3-venv (and the versioned
    # python3.X-venv it depends on; deadsnakes-style interpreters only have the latter).
    pyver=$("$python_bin" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
    requirements=(python3-venv)
    [[ -n "$pyver" ]] && requirements+=("python${pyver}-venv")
fi
# shellcheck disable=SC2206  # word splitting of the override is intended
requirements+=(${EXCHANGE_EXTRA_APT_PACKAGES:-})

if ! command -v dpkg-query >/dev/null 2>&1; then
    say "note: no dpkg-query here (not a Debian-like system); not checking system packages."
    say "      Make sure the equivalents of these are installed: ${requirements[*]//|/ or }"
    exit 0
fi

# --- what is installed -------------------------------------------------------------------
all_names=()
for req in "${requirements[@]}"; do
    IFS='|' read -r -a alts <<<"$req"
    all_names+=("${alts[@]}")
done
declare -A installed=()
while IFS=$'\t' read -r name status; do
    [[ "$status" == *" installed" ]] && installed["$name"]=1
done < <(dpkg-query -W -f='${Package}\t${Status}\n' "${all_names[@]}" 2>/dev/null || true)

missing=()  # requirements (possibly with alternatives) not satisfied
for req in "${requirements[@]}"; do
    IFS='|' read -r -a alts <<<"$req"
    ok=0
    for name in "${alts[@]}"; do
        [[ -n "${installed[$name]:-}" ]] && { ok=1; break; }
    done
    ((ok)) || missing+=("$req")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

# --- choose concrete package names --------------------------------------------------------
apt_knows() {  # true when apt has an installable candidate for the (non-virtual) package
    apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}' | grep -qv '^(none)$'
}
t64_release() {  # heuristic for when apt's lists are empty: Debian >= 13, Ubuntu >= 24.04
    local ID="" VERSION_ID=""
    # shellcheck disable=SC1091
    [[ -r /etc/os-release ]] && . /etc/os-release
    case "$ID" in
        debian) [[ -z "$VERSION_ID" || "${VERSION_ID%%.*}" -ge 13 ]] ;;
        ubuntu) [[ "${VERSION_ID%%.*}" -ge 24 ]] ;;
        *) return 1 ;;
    esac
}
choose() {  # print the package name to install for one requirement
    local req="$1" name
    IFS='|' read -r -a alts <<<"$req"
    if [[ ${#alts[@]} -eq 1 ]]; then
        printf '%s\n' "$req"
        return
    fi
    for name in "${alts[@]}"; do
        if apt_knows "$name"; then printf '%s\n' "$name"; return; fi
    done
    if t64_release; then printf '%s\n' "${alts[0]}"; else printf '%s\n' "${alts[-1]}"; fi
}
resolve_all() {
    to_install=()
    local req
    for req in "${missing[@]}"; do
        if [[ $mode == venv && "$req" == python3.*-venv ]] && ! apt_knows "$req"; then
            continue  # versioned venv package not offered by this release; python3-venv covers it
        fi
        to_install+=("$(choose "$req")")
    done
}

what="system libraries"
[[ $mode == venv ]] && what="Python venv support for $python_bin"

nothing_to_install() {
    say "missing: ${missing[*]//|/ or }, but apt offers nothing to install for it"
    if [[ $mode == venv ]]; then
        say "(is $python_bin a Debian python? a self-built one needs ensurepip built in)"
    fi
    exit 1
}

if [[ $(id -u) -ne 0 ]]; then
    resolve_all
    [[ ${#to_install[@]} -gt 0 ]] || nothing_to_install
    say "missing Debian packages ($what): ${to_install[*]}"
    say "Install them (needs root), then run make again:"
    printf '\n    sudo apt-get update && sudo apt-get install -y --no-install-recommends %s\n\n' \
        "${to_install[*]}" >&2
    say "(or set EXCHANGE_SKIP_SYSTEM_DEPS=1 if you provide these libraries another way)"
    exit 1
fi

say "missing Debian packages ($what): ${missing[*]//|/ or }; installing with apt-get (running as root)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
resolve_all  # after the update, so that renamed (t64) packages are known
[[ ${#to_install[@]} -gt 0 ]] || nothing_to_install
apt-get install -y -q --no-install-recommends "${to_install[@]}"

still=()
for name in "${to_install[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$name" 2>/dev/null || true)
    [[ "$status" == *" installed" ]] || still+=("$name")
done
if [[ ${#still[@]} -gt 0 ]]; then
    say "ERROR: still not installed after apt-get: ${still[*]}"
    exit 1
fi
say "installed: ${to_install[*]}"
