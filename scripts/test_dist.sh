#!/usr/bin/env bash
# `make test-dist`: try the frozen build in dist/exchange-station (made by `make dist`) as a
# counter PC would, with nothing from this checkout or its .venv on the path:
#   1. --self-check offscreen, on an empty data dir (the checks use a temporary database);
#   2. `--demo init` makes a demo station, and --self-check passes on it too (the bundled zbar
#      is the one loaded, migrations run on a copy), and `backup` copies it;
#   3. under Xvfb the counter window opens on that station, signed in (--operator A1 and
#      EXCHANGE_PIN), and the program saves a screenshot of the screen and quits
#      (EXCHANGE_SCREENSHOT): resources/screenshots/frozen-build.png;
#   4. as root, the self-check again with the system's libzbar hidden (a mount namespace), to
#      show the bundled one is enough.
# Logs go to a temporary folder (EXCHANGE_LOG_DIR) and are printed if a step fails.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dist=$root/dist/exchange-station
gui=$dist/exchange-station
cli=$dist/exchange-station-cli
shot=$root/resources/screenshots/frozen-build.png

if [[ ! -x $gui || ! -x $cli ]]; then
    echo "test-dist: no frozen build in $dist: run 'make dist' first" >&2
    exit 1
fi
command -v xvfb-run >/dev/null || { echo "test-dist: xvfb-run missing (apt-get install xvfb)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export EXCHANGE_LOG_DIR=$work/logs
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV EXCHANGE_DATA_DIR
cd "$work"  # not the checkout: the frozen program must need nothing from it

fail() {
    echo "test-dist: FAILED: $*" >&2
    [[ -f $EXCHANGE_LOG_DIR/exchange-station.log ]] && tail -n 40 "$EXCHANGE_LOG_DIR/exchange-station.log" >&2
    exit 1
}

echo "== 1. self-check of the frozen build, offscreen, no station yet"
env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen \
    "$cli" --data-dir "$work/empty" --self-check || fail "self-check (no station)"

echo "== 2. a demo station made by the frozen build, and the self-check on it"
"$cli" --data-dir "$work/demo" --demo init || fail "--demo init"
env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen \
    "$cli" --data-dir "$work/demo" --json --self-check >"$work/check.json" || {
        cat "$work/check.json"; fail "self-check (demo station)"; }
python3 - "$work/check.json" "$dist" <<'PY' || fail "self-check report"
import json, sys
report, dist = json.load(open(sys.argv[1])), sys.argv[2]
checks = {c["name"]: c["detail"] for c in report["checks"]}
assert report["ok"] and report["frozen"], report
assert dist in checks["decoder pyzbar (zbar library)"], "zbar not the bundled one: " + checks["decoder pyzbar (zbar library)"]
assert "station DEMO-01" in checks["migrations on a temporary copy"], checks
print("frozen: yes; zbar:", checks["decoder pyzbar (zbar library)"])
PY

"$cli" --data-dir "$work/demo" backup "$work/demo-backup.sqlite3" || fail "backup"

echo "== 3. the counter window under Xvfb, signed in, screenshot"
rm -f "$work/shot.png"
EXCHANGE_PIN=1234 EXCHANGE_SCREENSHOT=$work/shot.png \
    timeout 180 xvfb-run -a -s "-screen 0 1100x720x24" env -u QT_QPA_PLATFORM \
    "$gui" --data-dir "$work/demo" --operator A1 || fail "the window (xcb under Xvfb)"
[[ -s $work/shot.png ]] || fail "no screenshot was saved"
size=$(stat -c %s "$work/shot.png")
(( size > 20000 )) || fail "the screenshot is nearly empty ($size bytes)"
grep -q "counter window starting" "$EXCHANGE_LOG_DIR/exchange-station.log" || fail "nothing logged"
mkdir -p "$(dirname "$shot")"
cp "$work/shot.png" "$shot"

echo "== 4. without the system's zbar (hidden in a mount namespace; root only)"
zbar=$(python3 -c 'import ctypes.util, sys; n = ctypes.util.find_library("zbar"); print(n or "")')
system_zbar=$(ldconfig -p 2>/dev/null | awk -v n="$zbar" '$1 == n && !found {print $NF; found = 1}' || true)
if [[ -n $system_zbar && $(id -u) == 0 ]] && unshare -m true 2>/dev/null; then
    unshare -m bash -c 'mount --bind /dev/null "$(readlink -f "$1")" && shift &&
        env -u DISPLAY QT_QPA_PLATFORM=offscreen "$@"' _ "$system_zbar" \
        "$cli" --data-dir "$work/demo" --self-check >"$work/nozbar.txt" 2>&1 || {
            cat "$work/nozbar.txt"; fail "self-check with the system zbar hidden"; }
    grep "zbar library" "$work/nozbar.txt"
else
    echo "skipped: needs root, unshare and a system libzbar to hide"
fi
echo "screenshot: $shot ($size bytes)"
echo "build size: $(du -sh "$dist" | cut -f1)"
echo "test-dist: passed"
