#!/usr/bin/env bash
# codec-coverage.sh: which codec-level requirement IDs and edge cases have unit tests.
#
# Required: every R-DET/V1/V2/TLV/SSL/CRC/ALPN/AUTH/UID/NOOP/NETNS/RSV requirement of
# shared/spec/requirements.md that binds a receiver or a format (Binds R, S+R or "S / R"),
# and every edge case of §3.3-§3.7 (EC-V1, EC-V2, EC-T, EC-C, EC-SSL).
# Covered: an ID cited in a test name or comment in tests/unit/test_proxy_*.c, as "R-V1-14"
# or as an identifier part "test_R_V1_14_..." (normalised to R-V1-14).
# Exit 0 when nothing is missing, 1 naming what is, 2 when an input is missing.
#
# Requirements file: $PPC_SHARED/spec/requirements.md, default ../../shared relative to this
# script (CI clones the repo with shared/ beside it).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
shared=${PPC_SHARED:-$here/../../shared}
req="$shared/spec/requirements.md"
[ -r "$req" ] || { echo "codec-coverage: cannot read $req (set PPC_SHARED)" >&2; exit 2; }
shopt -s nullglob
tests=("$repo"/tests/unit/test_proxy_*.c)
[ ${#tests[@]} -gt 0 ] || { echo "codec-coverage: no tests/unit/test_proxy_*.c" >&2; exit 2; }

groups='DET|V1|V2|TLV|SSL|CRC|ALPN|AUTH|UID|NOOP|NETNS|RSV'

# Requirement rows: | n | ID | § | Binds | Kw | text |  -> IDs whose Binds has an R token.
required_reqs=$(awk -F'|' -v re="^R-($groups)-[0-9]+$" '
    NF > 6 {
        id = $3; gsub(/ /, "", id)
        binds = $5
        if (id ~ re && binds ~ /(^|[^A-Za-z])R([^A-Za-z]|$)/) print id
    }' "$req" | sort -u)
# Edge-case rows: | EC-xx-nn | ... in §3.3-§3.7.
required_ecs=$(grep -oE '^\| EC-(V1|V2|T|C|SSL)-[0-9]+ \|' "$req" | grep -oE 'EC-[A-Z0-9]+-[0-9]+' | sort -u)

# Cited IDs: hyphen form anywhere, underscore form inside identifiers.
cited=$(cat "${tests[@]}" |
    grep -oP "(?<![A-Za-z0-9])(R|EC)[-_](${groups}|T|C|F|S|GEN)[-_][0-9]{2}" |
    tr '_' '-' | sort -u)

missing=$(comm -23 <(printf '%s\n%s\n' "$required_reqs" "$required_ecs" | sort -u) <(printf '%s\n' "$cited"))

n_req=$(printf '%s\n' "$required_reqs" | grep -c .)
n_ec=$(printf '%s\n' "$required_ecs" | grep -c .)
n_missing=$(printf '%s' "$missing" | grep -c . || true)
echo "codec coverage: $n_req receiver/format requirements and $n_ec edge cases required, $n_missing without a test"
echo "  (requirements: $req)"
if [ "$n_missing" -gt 0 ]; then
    printf '  missing: %s\n' $missing
    exit 1
fi
exit 0
