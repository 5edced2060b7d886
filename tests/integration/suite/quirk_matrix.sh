#!/bin/sh
# Suite validity summary: every quirk ppbroker offers (read from `ppbroker --help`) must have
# been caught by at least one case (the reports run_quirk.sh left in OUTDIR). Prints
# "quirk: cases" lines, and fails naming any quirk that survived or was never run.
# usage: quirk_matrix.sh PPBROKER OUTDIR
set -u
broker=$1 out=$2
quirks=$("$broker" --help 2>&1 | sed -n '/--quirk NAME/,/^ *-[-a-zA-Z]/p' | sed -n 's/^  *\([a-z0-9][a-z0-9-]*\)  .*/\1/p')
[ -n "$quirks" ] || { echo "no quirk list in '$broker --help'"; exit 1; }
bad=0
for q in $quirks; do
    json="$out/quirk-$q.json"
    if [ ! -s "$json" ]; then echo "$q: NOT RUN (no $json)"; bad=1; continue; fi
    caught=$(sed -n 's/^{"id":"\([^"]*\)".*"verdict":"FAIL".*/\1/p' "$json" | tr '\n' ' ')
    if [ -z "$caught" ]; then echo "$q: SURVIVED (no case failed)"; bad=1
    else echo "$q: $(echo "$caught" | wc -w) case(s): $caught"; fi
done
exit $bad
