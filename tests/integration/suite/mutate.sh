#!/bin/sh
# Suite validity: `ppconform mutate` runs the suite against a clean ppbroker and once per
# quirk; every quirk must be caught by at least one case (it prints which cases catch which).
# Then every quirk `ppbroker --help` offers must appear in that report as caught, so a quirk
# added to the broker but not to the target profile's list cannot go untested.
# usage: mutate.sh PPCONFORM PPBROKER SCENARIOS OUTDIR
set -u
ppc=$1 broker=$2 scenarios=$3 out=$4
mkdir -p "$out"
json="$out/mutate.json"
rm -f "$json"
"$ppc" mutate --scenarios "$scenarios" -j 8 --json "$json"
rc=$?
[ "$rc" -eq 0 ] || { echo "ppconform mutate exited $rc"; exit 1; }
quirks=$("$broker" --help 2>&1 | sed -n '/--quirk NAME/,/^ *-[-a-zA-Z]/p' | sed -n 's/^  *\([a-z0-9][a-z0-9-]*\)  .*/\1/p')
[ -n "$quirks" ] || { echo "no quirk list in '$broker --help'"; exit 1; }
bad=0
for q in $quirks; do
    if ! grep -q "\"quirk\":\"$q\",\"caught_by\":\[\"" "$json"; then
        echo "quirk $q (from ppbroker --help) is not caught in $json"; bad=1
    fi
done
[ "$bad" -eq 0 ] && echo "every quirk of ppbroker --help ($(echo $quirks | wc -w)) is caught"
exit $bad
