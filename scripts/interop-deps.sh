#!/usr/bin/env bash
# Install the interop tests' npm peers from the lock file (Aedes, aedes-server-factory,
# aedes-protocol-decoder, MQTT.js), reproducibly: `npm ci` into tests/interop/aedes/node_modules.
# Called by `make test` after scripts/deps.sh (which installs node and npm from Debian).
# Skips the install when node_modules already matches the lock file.
# With CI=true a missing node/npm or a failed install is an error, never a silent skip.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir="$here/tests/interop/aedes"

fail() { echo "interop-deps.sh: $*" >&2; exit 1; }

for tool in node npm; do
  command -v "$tool" >/dev/null || fail "$tool not found: install the Debian packages nodejs and npm (scripts/deps.sh test)"
done
[ -f "$dir/package-lock.json" ] || fail "$dir/package-lock.json missing"

# npm ci leaves a copy of the lock file in node_modules; identical means nothing to do.
if [ -f "$dir/node_modules/.package-lock.json" ] &&
   node -e '
     const a = require(process.argv[1]), b = require(process.argv[2]);
     const strip = p => JSON.stringify(Object.fromEntries(Object.entries(p.packages).filter(([k]) => k !== "")
       .map(([k, v]) => [k, v.version + (v.integrity || "")])));
     process.exit(strip(a) === strip(b) ? 0 : 1)' "$dir/package-lock.json" "$dir/node_modules/.package-lock.json" 2>/dev/null; then
  exit 0
fi

echo "interop-deps.sh: npm ci in tests/interop/aedes" >&2
# bounded: a registry that does not answer must not hang make test
( cd "$dir" && timeout 600 npm ci --no-audit --no-fund --loglevel=error ) ||
  fail "npm ci failed in $dir (the interop tests need aedes, aedes-server-factory, aedes-protocol-decoder and mqtt)"
