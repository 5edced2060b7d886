#!/usr/bin/env bash
# ppdecode's interface is its output and exit status: 0 valid, 1 invalid, 2 usage.
set -uo pipefail
ppdecode=${1:?usage: ppdecode-test.sh PATH_TO_PPDECODE}
fail=0
expect() { # expect RC GREP -- ARGS...
    local want=$1 pattern=$2
    shift 3
    local out rc
    out=$("$ppdecode" "$@" 2>&1) && rc=0 || rc=$?
    if [ "$rc" -ne "$want" ] || ! grep -qF -- "$pattern" <<<"$out"; then
        echo "FAIL: ppdecode $* -> exit $rc (want $want, output containing '$pattern'):"
        echo "$out"
        fail=1
    fi
}
sig=0d0a0d0a000d0a515549540a
expect 0 "source:      127.0.0.1 port 53670" -- ${sig}2111000c7f0000017f000001d1a64991
expect 0 "after the header: 5 bytes" -- "${sig}2111000c 7f000001 7f000001 d1a6 4991 68656c6c6f"
expect 0 "ssl{client=0x07 verify=0 version=TLSv1.3 cn=alice}" -- "\
    ${sig}211100267f0000017f000001c7fa4992200017070000000021000754 4c5376312e33220005616c696365"
expect 0 "protocol:    UNKNOWN" -- -t 'PROXY UNKNOWN\r\n'
expect 1 "v1.leading_zero" -- -t 'PROXY TCP4 010.0.0.1 1.2.3.4 80 443\r\n'
expect 1 "R-V1-14" -- -t 'PROXY TCP4 010.0.0.1 1.2.3.4 80 443\r\n'
expect 1 "detect.not_proxy" -- 100c00044d5154540402003c0000
expect 1 "header.truncated" -- ${sig}2111
expect 1 "detect.version_not_allowed" -- --v1-only ${sig}20000000
expect 2 "not a hex digit" -- zz
expect 2 "usage" --
expect 2 "unknown option" -- --frobnicate 00
echo "${sig}20000000" | "$ppdecode" - >/dev/null || { echo "FAIL: hex from stdin"; fail=1; }
exit $fail
