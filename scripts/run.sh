#!/usr/bin/env bash
# `make run`: the main job. Runs the conformance suite against the embedded ppbroker;
# until the runner exists, decodes a sample header to show the codec at work.
set -euo pipefail
build=${1:-build}
if [ -x "$build/bin/ppconform" ]; then
  exec "$build/bin/ppconform" run
fi
exec "$build/bin/ppdecode" 0d0a0d0a000d0a515549540a2111000c7f0000017f000001d1a64991
