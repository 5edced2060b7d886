#!/usr/bin/env bash
# The matrix HTML page renders: write a small matrix (the Detection cases against plain
# Mosquitto, about a second, with the real-sender record's section), screenshot it with headless Chromium, and check the PNG
# exists and is not blank. Usage: screenshot.sh BIN_DIR SOURCE_DIR
# Without chromium: fails with CI=true, otherwise skipped (exit 77) with a message.
set -euo pipefail
bin=$1 src=$2
chromium=$(command -v chromium || true)
if [ -z "$chromium" ] || [ ! -x /usr/sbin/mosquitto ]; then
  echo "screenshot: chromium or mosquitto missing (Debian packages chromium, mosquitto)" >&2
  [ "${CI:-}" = true ] && exit 1
  exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/ppc-matrix-shot-XXXXXX")
trap 'rm -rf "$work"' EXIT
"$bin/ppconform-matrix" --targets mosquitto --ppconform "$bin/ppconform" --senders "$src/docs/sender-findings.json" \
  --html "$work/matrix.html" 'DET-*'
grep -q '<details>' "$work/matrix.html" || { echo "screenshot: no <details> cells in the page" >&2; exit 1; }
grep -q '<h2 id="real-senders">' "$work/matrix.html" || { echo "screenshot: no real-senders section in the page" >&2; exit 1; }
if grep -Eq '(src|href)="(https?:)?//' "$work/matrix.html"; then
  echo "screenshot: the page loads an external resource" >&2; exit 1
fi
# bounded: a browser that hangs must not hang the test
timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$work/profile" \
  --window-size=1280,1024 --screenshot="$work/matrix.png" "file://$work/matrix.html" >"$work/chromium.log" 2>&1 || {
  echo "screenshot: chromium failed:" >&2; tail -20 "$work/chromium.log" >&2; exit 1; }
[ -s "$work/matrix.png" ] || { echo "screenshot: no PNG written" >&2; tail -20 "$work/chromium.log" >&2; exit 1; }
python3 "$src/tests/interop/matrix/png_not_blank.py" "$work/matrix.png"
