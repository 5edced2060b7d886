#!/bin/sh
# Suite validity for one ppbroker quirk: run the whole suite against `ppbroker --quirk QUIRK`
# and require at least one case to FAIL (the suite catches that defect). Prints the catching
# cases; leaves OUTDIR/quirk-QUIRK.json for quirk_matrix.sh.
# usage: run_quirk.sh PPCONFORM PROFILE SCENARIOS QUIRK OUTDIR
set -u
ppc=$1 profile=$2 scenarios=$3 quirk=$4 out=$5
mkdir -p "$out"
json="$out/quirk-$quirk.json"
rm -f "$json"
"$ppc" run --profile "$profile" --scenarios "$scenarios" --quirk "$quirk" -j 12 --color never \
    --json "$json" >"$out/quirk-$quirk.txt" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ] && [ "$rc" -ne 3 ]; then
    echo "quirk $quirk: ppconform exited $rc (usage or load error)"; tail -20 "$out/quirk-$quirk.txt"; exit 1
fi
if [ ! -s "$json" ]; then echo "quirk $quirk: no JSON report"; tail -20 "$out/quirk-$quirk.txt"; exit 1; fi
# One case per line in the report: {"id":"X",...,"verdict":"FAIL",...}
caught=$(sed -n 's/^{"id":"\([^"]*\)".*"verdict":"FAIL".*/\1/p' "$json")
errors=$(sed -n 's/^{"id":"\([^"]*\)".*"verdict":"ERROR".*/\1/p' "$json")
n=$(printf '%s\n' "$caught" | grep -c .)
if [ "$n" -eq 0 ]; then
    echo "quirk $quirk SURVIVED: no case failed against ppbroker --quirk $quirk"
    [ -n "$errors" ] && echo "  (cases in ERROR: $(echo $errors))"
    exit 1
fi
echo "quirk $quirk caught by $n case(s): $(echo $caught)"
[ -n "$errors" ] && echo "  cases in ERROR (not counted): $(echo $errors)"
exit 0
