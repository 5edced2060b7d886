-- Version 1 (text) grammar, §2.1: every line the grammar allows is accepted with the carried
-- addresses, every line it does not allow is refused before MQTT sees a byte (R-V1-26), and
-- UNKNOWN keeps the real endpoints. Edge cases EC-V1-01..35 of the requirements.
local S = require "lib.suite_util"

local FF6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"

-- ---- accepted lines: {id, EC, line, expected attributed peer, refs, title} -------------------
local ACCEPT = {
  { "01", "EC-V1-01", "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", "192.168.0.1:56324",
    { "R-V1-02", "R-V1-03", "R-V1-04", "R-V1-12", "R-V1-13", "R-V1-18", "R-V1-20", "R-GEN-03" }, "the 47-byte sample line" },
  { "02", "EC-V1-02", "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n", "255.255.255.255:65535",
    { "R-V1-21", "R-V1-13", "R-V1-18" }, "the longest TCP4 line (56 bytes)" },
  { "03", "EC-V1-03", ("PROXY TCP6 %s %s 65535 65535\r\n"):format(FF6, FF6), "[" .. FF6 .. "]:65535",
    { "R-V1-21", "R-V1-15", "R-V1-17" }, "the longest TCP6 line (104 bytes)" },
  { "04", "EC-V1-19", "PROXY TCP4 0.0.0.0 255.255.255.255 1 2\r\n", "0.0.0.0:1",
    { "R-V1-13", "R-V1-14" }, "IPv4 edge values 0.0.0.0 and 255.255.255.255 (a lone 0 is not a leading zero)" },
  { "05", "EC-V1-21", "PROXY TCP4 192.0.2.1 192.0.2.2 0 65535\r\n", "192.0.2.1:0",
    { "R-V1-18", "R-V1-19" }, "ports 0 and 65535" },
  { "06", "EC-V1-26", "PROXY TCP6 ::1 :: 1000 1883\r\n", "[::1]:1000", { "R-V1-15" }, "IPv6 ::1 and ::" },
  { "07", "EC-V1-26", "PROXY TCP6 2001:db8::1 2001:db8::2 1000 1883\r\n", "[2001:db8::1]:1000", { "R-V1-15" }, "IPv6 2001:db8::1 (short groups)" },
  { "08", "EC-V1-26", "PROXY TCP6 2001:DB8::1 2001:db8::2 1000 1883\r\n", "[2001:db8::1]:1000", { "R-V1-15" }, "IPv6 in upper case" },
  { "09", "EC-V1-26", "PROXY TCP6 2001:Db8:0:0:0:0:0:1 2001:db8::2 1000 1883\r\n", "[2001:db8::1]:1000", { "R-V1-15" }, "IPv6 uncompressed, mixed case" },
  { "10", "EC-V1-26", "PROXY TCP6 2001:0db8:0000:0000:0000:0000:0000:0001 2001:db8::2 1000 1883\r\n", "[2001:db8::1]:1000",
    { "R-V1-15" }, "IPv6 full 39-character form" },
}

local cases = {}
for _, a in ipairs(ACCEPT) do
  cases[#cases + 1] = S.accept_case {
    id = "V1-ACC-" .. a[1], title = "Accepted: " .. a[6], refs = a[5], tags = { a[2] },
    description = a[2] .. ".",
    header = a[3], opts = { peer = a[4], ref = "R-GEN-03" },
  }
end

-- ---- UNKNOWN: accepted with the real endpoints (R-V1-07 MUST ignore the rest; R-V1-08 SHOULD accept)
local UNKNOWN = {
  { "01", "EC-V1-04", "PROXY UNKNOWN\r\n", "the short form (15 bytes)" },
  { "02", "EC-V1-05", ("PROXY UNKNOWN %s %s 65535 65535\r\n"):format(FF6, FF6), "the longest line the spec allows (107 bytes)" },
  { "03", "EC-V1-06", "PROXY UNKNOWN !garbage~ {not} an address 99999\r\n", "printable garbage after UNKNOWN" },
  { "04", "EC-V1-32", "PROXY UNKNOWN \r\n", "a trailing space after UNKNOWN" },
  { "05", "EC-V1-32", "PROXY UNKNOWN 1.2.3.4\r\n", "one stray field after UNKNOWN" },
}
for _, u in ipairs(UNKNOWN) do
  cases[#cases + 1] = S.accept_case {
    id = "V1-UNK-" .. u[1], title = "UNKNOWN accepted with the real endpoints: " .. u[4], level = "SHOULD",
    refs = { "R-V1-07", "R-V1-08", "R-V1-21" }, tags = { u[2] },
    description = ("%s: whatever follows UNKNOWN up to CRLF is ignored; the real peer is kept."):format(u[2]),
    header = u[3], opts = { peer = "real", ref = "R-V1-08" },
  }
end

-- ---- refused lines: {EC, line, refs, what} --------------------------------------------------
local OK4 = "192.0.2.1 192.0.2.2 1000 1883"
local REJECT = {
  -- length (R-V1-23 is a should: these two are SHOULD cases, declared below)
  { "EC-V1-09", "PROXY " .. ("A"):rep(500), { "R-V1-23", "R-V1-26" }, "500 bytes with no CRLF" },
  -- line ends
  { "EC-V1-10", "PROXY TCP4 " .. OK4 .. "\n", { "R-V1-25", "R-V1-20" }, "a bare LF ends the line" },
  { "EC-V1-11", "PROXY TCP4 " .. OK4 .. "\rGET", { "R-V1-25", "R-V1-20" }, "a bare CR, then payload" },
  { "EC-V1-12", "PROXY TCP4 " .. OK4 .. "\n\r", { "R-V1-25", "R-V1-20" }, "LF CR reversed" },
  -- separators
  { "EC-V1-13", "PROXY TCP4  192.0.2.1 192.0.2.2 1000 1883\r\n", { "R-V1-03" }, "two spaces between fields" },
  { "EC-V1-13", "PROXY  TCP4 " .. OK4 .. "\r\n", { "R-V1-03" }, "two spaces after PROXY" },
  { "EC-V1-13", "PROXY TCP4 " .. OK4 .. " \r\n", { "R-V1-03" }, "a space before CRLF" },
  { "EC-V1-13", "PROXY\tTCP4 " .. OK4 .. "\r\n", { "R-V1-03" }, "a TAB separator" },
  { "EC-V1-13", "PROXY TCP4\t" .. OK4 .. "\r\n", { "R-V1-03" }, "a TAB after the protocol" },
  -- case
  { "EC-V1-14", "proxy TCP4 " .. OK4 .. "\r\n", { "R-V1-02" }, "lower-case proxy" },
  { "EC-V1-14", "PROXY tcp4 " .. OK4 .. "\r\n", { "R-V1-04" }, "lower-case tcp4" },
  { "EC-V1-14", "Proxy TCP4 " .. OK4 .. "\r\n", { "R-V1-02" }, "mixed-case Proxy" },
  { "EC-V1-14", "PROXY unknown\r\n", { "R-V1-04" }, "lower-case unknown" },
  -- protocol tokens
  { "EC-V1-15", "PROXY TCP5 " .. OK4 .. "\r\n", { "R-V1-04" }, "protocol TCP5" },
  { "EC-V1-15", "PROXY UDP4 " .. OK4 .. "\r\n", { "R-V1-04" }, "protocol UDP4" },
  { "EC-V1-15", "PROXY TCP " .. OK4 .. "\r\n", { "R-V1-04" }, "protocol TCP" },
  { "EC-V1-15", "PROXY UNIX " .. OK4 .. "\r\n", { "R-V1-04" }, "protocol UNIX" },
  { "EC-V1-15", "PROXY TCP46 " .. OK4 .. "\r\n", { "R-V1-04" }, "protocol TCP46" },
  { "EC-V1-15", "PROXY  " .. OK4 .. "\r\n", { "R-V1-04" }, "an empty protocol" },
  { "EC-V1-16", "PROXYTCP4 " .. OK4 .. "\r\n", { "R-V1-03" }, "no space after PROXY" },
  { "EC-V1-16", "PROXY\r\n", { "R-V1-04" }, "PROXY alone" },
  { "EC-V1-16", "PROXY \r\n", { "R-V1-04" }, "PROXY and a space" },
  -- family mismatch
  { "EC-V1-17", "PROXY TCP4 2001:db8::1 2001:db8::2 1000 1883\r\n", { "R-V1-17" }, "TCP4 with IPv6 addresses" },
  { "EC-V1-17", "PROXY TCP6 1.2.3.4 5.6.7.8 1000 1883\r\n", { "R-V1-17" }, "TCP6 with IPv4 addresses" },
  { "EC-V1-17", "PROXY TCP4 192.0.2.1 2001:db8::2 1000 1883\r\n", { "R-V1-17" }, "TCP4 with an IPv6 destination" },
  -- IPv4 leading zeros
  { "EC-V1-18", "PROXY TCP4 192.168.000.001 192.0.2.2 1000 1883\r\n", { "R-V1-14" }, "IPv4 192.168.000.001" },
  { "EC-V1-18", "PROXY TCP4 010.0.0.1 192.0.2.2 1000 1883\r\n", { "R-V1-14" }, "IPv4 010.0.0.1 (octal-looking)" },
  { "EC-V1-18", "PROXY TCP4 192.0.2.1 1.2.3.04 1000 1883\r\n", { "R-V1-14" }, "IPv4 1.2.3.04 in the destination" },
}
-- invalid IPv4 forms (EC-V1-20)
for _, a in ipairs { "256.0.0.1", "1.2.3", "1.2.3.4.5", "1..2.3", "1.2.3.", ".1.2.3", "+1.2.3.4", "0x7f.0.0.1", "3232235521", "1.2.3.-4", "1.2.3.4a" } do
  REJECT[#REJECT + 1] = { "EC-V1-20", ("PROXY TCP4 %s 192.0.2.2 1000 1883\r\n"):format(a), { "R-V1-13" }, "invalid IPv4 source " .. a }
end
-- ports (EC-V1-22, -23, -24)
for _, p in ipairs { "65536", "99999", "-1", "+80", "8a", "0x50" } do
  REJECT[#REJECT + 1] = { "EC-V1-22", ("PROXY TCP4 192.0.2.1 192.0.2.2 %s 1883\r\n"):format(p), { "R-V1-18" }, "source port " .. p }
end
REJECT[#REJECT + 1] = { "EC-V1-22", "PROXY TCP4 192.0.2.1 192.0.2.2  1883\r\n", { "R-V1-18", "R-V1-03" }, "an empty source port" }
for _, p in ipairs { "080", "00", "0000000000080" } do
  REJECT[#REJECT + 1] = { "EC-V1-23", ("PROXY TCP4 192.0.2.1 192.0.2.2 1000 %s\r\n"):format(p), { "R-V1-19" }, "destination port " .. p .. " (leading zero)" }
end
for _, p in ipairs { "4294967376", "18446744073709551696" } do
  REJECT[#REJECT + 1] = { "EC-V1-24", ("PROXY TCP4 192.0.2.1 192.0.2.2 %s 1883\r\n"):format(p), { "R-V1-18" }, "port " .. p .. " must not wrap to 80" }
end
-- field count (EC-V1-25)
REJECT[#REJECT + 1] = { "EC-V1-25", "PROXY TCP4 192.0.2.1 192.0.2.2 1000\r\n", { "R-V1-12" }, "only one port" }
REJECT[#REJECT + 1] = { "EC-V1-25", "PROXY TCP4 192.0.2.1 1000 1883\r\n", { "R-V1-12" }, "only one address" }
REJECT[#REJECT + 1] = { "EC-V1-25", "PROXY TCP4 192.0.2.1 192.0.2.2 1000 1883 7\r\n", { "R-V1-12" }, "a 7th field" }
REJECT[#REJECT + 1] = { "EC-V1-25", "PROXY TCP4 1000 1883 192.0.2.1 192.0.2.2\r\n", { "R-V1-12" }, "ports before addresses" }
-- invalid IPv6 forms (EC-V1-27, -28)
for _, a in ipairs { "2001::db8::1", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "2001:db8::12345", "2001:db8::g", "2001:db8:1::1:", "1:2:3:4:5:6:7:", ":1:2:3:4:5:6:7" } do
  REJECT[#REJECT + 1] = { "EC-V1-27", ("PROXY TCP6 %s ::1 1000 1883\r\n"):format(a), { "R-V1-15" }, "invalid IPv6 source " .. a }
end
for _, a in ipairs { "fe80::1%eth0", "[::1]", "::1/128" } do
  REJECT[#REJECT + 1] = { "EC-V1-28", ("PROXY TCP6 %s ::1 1000 1883\r\n"):format(a), { "R-V1-15" }, "IPv6 decoration " .. a }
end
-- bytes outside the grammar (EC-V1-31)
REJECT[#REJECT + 1] = { "EC-V1-31", "PROXY TCP4 192.0.2.1\0 192.0.2.2 1000 1883\r\n", { "R-V1-01", "R-DET-06" }, "a NUL byte inside the line" }
REJECT[#REJECT + 1] = { "EC-V1-31", "PROXY TCP4 192.0.2.1 192.0.2.2 1000 1883\xc3\xa9\r\n", { "R-V1-01" }, "bytes >= 0x80 in a TCP4 line" }

for i, r in ipairs(REJECT) do
  local refs, seen = {}, {}
  for _, x in ipairs { "R-V1-26", table.unpack(r[3]) } do
    if not seen[x] then refs[#refs + 1] = x; seen[x] = true end
  end
  cases[#cases + 1] = S.reject_case {
    id = ("V1-REJ-%02d"):format(i), title = "Refused: " .. r[4], refs = refs, tags = { r[1] },
    description = r[1] .. ": outside the grammar, so discarded and the connection aborted (R-V1-26).",
    bytes = r[2],
  }
end

-- ---- the 107-byte limit (R-V1-23 is a should) ------------------------------------------------
cases[#cases + 1] = S.reject_case {
  id = "V1-LEN-01", title = "A line whose CRLF ends at byte 108 is refused", level = "SHOULD",
  refs = { "R-V1-23", "R-V1-21" }, tags = { "EC-V1-07" },
  description = "EC-V1-07: the 107-byte UNKNOWN line with the last port 655350.",
  bytes = ("PROXY UNKNOWN %s %s 65535 655350\r\n"):format(FF6, FF6),
}
cases[#cases + 1] = S.reject_case {
  id = "V1-LEN-02", title = "UNKNOWN with filler: CR at byte 107 and LF at byte 108 is refused", level = "SHOULD",
  refs = { "R-V1-23" }, tags = { "EC-V1-08" },
  description = "EC-V1-08: PROXY UNKNOWN and printable filler up to byte 106, CR at 107, LF at 108.",
  bytes = "PROXY UNKNOWN " .. ("x"):rep(108 - 16) .. "\r\n",
}

-- ---- implementation-defined (A-09, A-19): recorded -------------------------------------------
cases[#cases + 1] = S.either_case {
  id = "V1-AMB-01", title = "IPv4-mapped IPv6 in dotted form (::ffff:192.0.2.1), as HAProxy emits", refs = { "R-V1-15" },
  tags = { "EC-V1-29", "A-09" }, header = "PROXY TCP6 ::ffff:192.0.2.1 ::ffff:192.0.2.2 1000 1883\r\n",
  description = "EC-V1-29 / A-09: outside the strict grammar, lean accept for interop. Recorded.",
}
cases[#cases + 1] = S.either_case {
  id = "V1-AMB-02", title = "Non-maximal :: compression (1:0:0:2::3)", refs = { "R-V1-16", "R-V1-15" },
  tags = { "EC-V1-30", "A-09" }, header = "PROXY TCP6 1:0:0:2::3 ::1 1000 1883\r\n",
  opts = { peer = "[1:0:0:2::3]:1000" },
}
cases[#cases + 1] = S.either_case {
  id = "V1-AMB-03", title = "UNKNOWN directly followed by a non-space (PROXY UNKNOWNxyz)", refs = { "R-V1-07" },
  tags = { "EC-V1-33", "A-19" }, header = "PROXY UNKNOWNxyz\r\n", opts = { peer = "real" },
}
cases[#cases + 1] = S.either_case {
  id = "V1-AMB-04", title = "A TCP6 line with embedded IPv4 at full length (116 bytes)", refs = { "R-V1-21", "R-V1-15" },
  tags = { "A-09" },
  header = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 65535 65535\r\n",
}

suite {
  id = "V1", title = "Version 1: the text header grammar (§2.1)", tags = { "v1" },
  cases = cases,
}
