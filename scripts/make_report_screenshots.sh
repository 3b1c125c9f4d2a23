#!/usr/bin/env bash
# Page images of a daily summary and a label sheet for the README (resources/screenshots/).
# Builds a demo station in a temporary folder, records a few swaps, prints, and rasterises.
set -euo pipefail
cd "$(dirname "$0")/.."
ES=.venv/bin/exchange-station
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export QT_QPA_PLATFORM=offscreen EXCHANGE_NEW_PIN=1111 EXCHANGE_PIN=1111 EXCHANGE_LEAD_PIN=1111
$ES --data-dir "$tmp/st" init --station HQ-01 --site "Hutton HQ" --admin A1 --name "Ada Admin" >/dev/null
.venv/bin/python - "$tmp/st" <<'PY'
import sys
from app.bootstrap import open_station
from app.services import auth, demo
st = open_station(sys.argv[1])
demo.load_demo(st.context, auth.sign_in(st.context, "A1", "1111"), "Hutton HQ")
PY
for n in 1 2 4 5 6; do
  $ES --data-dir "$tmp/st" --operator A1 exchange --person "P100$n" --return "OLD-0000$n" \
      --issue "NEW-0000$n" --at-confirmed >/dev/null
done
$ES --data-dir "$tmp/st" --operator A1 exchange --person P1008 --issue NEW-00008 \
    --override "laptop stolen, crime ref 42/7781/26" --authorised-by A1 >/dev/null
$ES --data-dir "$tmp/st" --operator A1 report daily --site "Hutton HQ" --date "$(date +%F)" \
    --out "$tmp/daily.pdf" >/dev/null
$ES label $(printf 'NEW-%05d ' $(seq 1 21)) --format pdf --size a4-21 --out "$tmp/labels.pdf" >/dev/null
$ES --data-dir "$tmp/st" --operator A1 report dashboard --out "$tmp/dashboard.pdf" >/dev/null
pdftoppm -r 80 -png -singlefile "$tmp/daily.pdf" resources/screenshots/daily-summary
pdftoppm -r 80 -png -singlefile "$tmp/dashboard.pdf" resources/screenshots/dashboard
pdftoppm -r 80 -png -singlefile "$tmp/labels.pdf" resources/screenshots/label-sheet
echo "wrote resources/screenshots/daily-summary.png, dashboard.png and label-sheet.png"
