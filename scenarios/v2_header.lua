-- Version 2 (binary) fixed header and address block, §2.2: signature, version and command
-- nibbles, family and transport, the length, LOCAL, and the address layouts. Edge cases
-- EC-V2-01..26 and EC-F-14/15 of the requirements.
local S = require "lib.suite_util"

local SIG, B4, B6 = S.SIG, S.BLOCK4, S.BLOCK6
local UNIX_BLOCK = ("/run/a.sock" .. ("\0"):rep(108 - 11)) .. ("/run/b.sock" .. ("\0"):rep(108 - 11))
local cases = {}
local function add(c) cases[#cases + 1] = c end

-- ---- accepted ------------------------------------------------------------------------------
add(S.accept_case {
  id = "V2-ACC-01", title = "HAProxy's reg-test vector: PROXY TCP4 127.0.0.1:42 -> 127.0.0.1:1337",
  refs = { "R-V2-01", "R-V2-04", "R-V2-09", "R-V2-10", "R-V2-11", "R-V2-16", "R-V2-21", "R-V2-22", "R-V2-26", "R-V2-30", "R-DET-02" },
  tags = { "EC-V2-01" },
  description = "EC-V2-01: sig 21 11 00 0C 7F000001 7F000001 002A 0539 + CONNECT; port bytes 00 2A are 42.",
  header = S.v2raw(0x21, 0x11, string.char(127, 0, 0, 1, 127, 0, 0, 1, 0x00, 0x2a, 0x05, 0x39)),
  opts = { peer = "127.0.0.1:42", ref = "R-V2-30" },
})
add(S.accept_case {
  id = "V2-ACC-02", title = "PROXY TCP6 2001:db8::7 -> 2001:db8::1 (36-byte block)",
  refs = { "R-V2-17", "R-V2-21", "R-V2-22", "R-V2-30" }, tags = { "EC-V2-02" },
  header = S.v2raw(0x21, 0x21, B6), opts = { peer = S.SRC6 },
})
add(S.accept_case {
  id = "V2-ACC-03", title = "Byte 13 = 0x21: the version test masks the command nibble",
  refs = { "R-DET-02", "R-V2-04" }, tags = { "EC-V2-19", "A-03" },
  description = "A-03: the spec's detection example shows 0x20 only; a receiver comparing the whole byte to 0x20 refuses every PROXY header.",
  header = S.v2raw(0x21, 0x11, B4), opts = { peer = S.SRC4 },
})
add(S.accept_case {
  id = "V2-ACC-04", title = "Ports 0 and 65535 decode big-endian",
  refs = { "R-V2-21", "R-V2-30" }, tags = { "EC-V2-22" },
  header = S.v2raw(0x21, 0x11, string.char(192, 0, 2, 9, 192, 0, 2, 1) .. string.pack(">I2I2", 0, 65535)),
  opts = { peer = "192.0.2.9:0" },
})
add(S.accept_case {
  id = "V2-ACC-05", title = "Source port bytes ff fe decode as 65534",
  refs = { "R-V2-21", "R-V2-30" }, tags = { "EC-V2-22" },
  header = S.v2raw(0x21, 0x11, string.char(192, 0, 2, 9, 192, 0, 2, 1) .. string.pack(">I2I2", 65534, 1)),
  opts = { peer = "192.0.2.9:65534" },
})
add(S.either_case {
  id = "V2-ACC-06", title = "IPv4-mapped IPv6 ::ffff:192.0.2.1 in a 0x21 block", level = "MUST",
  refs = { "R-V2-17" }, tags = { "EC-V2-23" },
  description = "EC-V2-23: accepted; shown as IPv6 or as IPv4 (implementation-defined). A refusal fails.",
  header = S.v2raw(0x21, 0x21, ("\0"):rep(10) .. "\xff\xff" .. string.char(192, 0, 2, 1) .. ("\0"):rep(15) .. "\1" .. string.pack(">I2I2", 5000, 1883)),
  opts = { peer = { "[::ffff:192.0.2.1]:5000", "192.0.2.1:5000" } },
})
add(S.accept_case {
  id = "V2-LOC-01", title = "LOCAL/UNSPEC (sig 20 00 00 00, HAProxy's health check): real endpoints",
  refs = { "R-V2-07", "R-V2-23", "R-V2-25" }, tags = { "EC-V2-07" },
  header = S.v2raw(0x20, 0x00, ""), opts = { peer = "real", ref = "R-V2-07" },
})
add(S.accept_case {
  id = "V2-LOC-02", title = "LOCAL with an IPv4 block (AWS NLB style): 12 bytes skipped, addresses ignored",
  refs = { "R-V2-07", "R-V2-28" }, tags = { "EC-V2-08" },
  header = S.v2raw(0x20, 0x11, B4), opts = { peer = "real", ref = "R-V2-07" },
})
add(S.accept_case {
  id = "V2-LOC-03", title = "LOCAL with an IPv6 block and TLVs after it (len > 36)",
  refs = { "R-V2-07", "R-V2-28", "R-TLV-02" }, tags = { "EC-V2-09", "EC-T-20" },
  header = S.v2raw(0x20, 0x21, B6 .. S.tlv(0x01, "mqtt") .. S.tlv(0x04, "pad")), opts = { peer = "real" },
})
add(S.accept_case {
  id = "V2-LOC-04", title = "LOCAL/UNSPEC with len > 0 holding only TLVs (HAProxy with ALPN and NOOP)",
  refs = { "R-V2-28", "R-V2-07" }, tags = { "EC-V2-10", "A-06", "EC-T-20" },
  header = S.v2raw(0x20, 0x00, S.tlv(0x01, "mqtt") .. S.tlv(0x04, "")), opts = { peer = "real" },
})

-- ---- allowed either way (recorded) ----------------------------------------------------------
add(S.either_case {
  id = "V2-FAM-01", title = "UDP4 (0x12) on a TCP listener: carried address, UNSPEC fallback, or refusal",
  refs = { "R-V2-25", "R-V2-19" }, tags = { "EC-V2-03", "A-18" },
  header = S.v2raw(0x21, 0x12, B4), opts = { peer = { S.SRC4, "real" } },
})
add(S.either_case {
  id = "V2-FAM-02", title = "UDP6 (0x22) on a TCP listener",
  refs = { "R-V2-25", "R-V2-19" }, tags = { "EC-V2-03", "A-18" },
  header = S.v2raw(0x21, 0x22, B6), opts = { peer = { S.SRC6, "real" } },
})
add(S.either_case {
  id = "V2-FAM-03", title = "UNIX stream (0x31): two 108-byte paths, exactly 216 bytes skipped",
  refs = { "R-V2-18", "R-V2-25", "R-V2-28" }, tags = { "EC-V2-04" },
  header = S.v2raw(0x21, 0x31, UNIX_BLOCK), opts = { peer = { "real", "unix:/run/a.sock" } },
})
add(S.either_case {
  id = "V2-FAM-04", title = "UNIX datagram (0x32)",
  refs = { "R-V2-18", "R-V2-25" }, tags = { "EC-V2-04" },
  header = S.v2raw(0x21, 0x32, UNIX_BLOCK), opts = { peer = { "real", "unix:/run/a.sock" } },
})
add(S.either_case {
  id = "V2-FAM-05", title = "UNIX path of 108 non-NUL bytes: no over-read",
  refs = { "R-V2-18" }, tags = { "EC-V2-05", "A-07" },
  header = S.v2raw(0x21, 0x31, ("p"):rep(216)),
})
add(S.either_case {
  id = "V2-FAM-06", title = "UNIX abstract path (leading NUL) and an all-zero path",
  refs = { "R-V2-18" }, tags = { "EC-V2-06", "A-07" },
  header = S.v2raw(0x21, 0x31, "\0abstract" .. ("\0"):rep(99) .. ("\0"):rep(108)),
})
for i, fam in ipairs { 0x40, 0xF3, 0x13 } do
  add(S.either_case {
    id = ("V2-FAM-%02d"):format(6 + i), title = ("LOCAL with an invalid family byte 0x%02x"):format(fam),
    refs = { "R-V2-07", "R-V2-13" }, tags = { "EC-V2-11", "A-04" },
    description = "A-04: LOCAL ignores the family, yet invalid values must be rejected; either is defensible. If accepted, the real peer.",
    header = S.v2raw(0x20, fam, B4), opts = { peer = "real" },
  })
end
add(S.either_case {
  id = "V2-FAM-10", title = "PROXY/UNSPEC (sig 21 00 00 00): real endpoints or refusal",
  refs = { "R-V2-24", "R-V2-15", "R-V2-25" }, tags = { "EC-V2-12" },
  header = S.v2raw(0x21, 0x00, ""), opts = { peer = "real" },
})
add(S.either_case {
  id = "V2-FAM-11", title = "PROXY/UNSPEC with len 12 of address-like bytes: never used as an address",
  refs = { "R-V2-24", "R-V2-15", "R-V2-29" }, tags = { "EC-V2-12", "A-06" },
  header = S.v2raw(0x21, 0x00, B4), opts = { peer = "real" },
})
for i, fam in ipairs { 0x01, 0x02, 0x10, 0x20, 0x30 } do
  add(S.either_case {
    id = ("V2-FAM-%02d"):format(11 + i), title = ("PROXY with family/transport byte 0x%02x (defined nibbles, not an expected pair)"):format(fam),
    refs = { "R-V2-15", "R-V2-22" }, tags = { "EC-V2-17", "A-08" },
    description = "A-08: UNSPEC fallback or refusal; the address bytes are never used.",
    header = S.v2raw(0x21, fam, fam >= 0x30 and UNIX_BLOCK or fam >= 0x20 and B6 or B4), opts = { peer = "real" },
  })
end

-- ---- refused ---------------------------------------------------------------------------------
for _, vc in ipairs { 0x01, 0x11, 0x31, 0xF1, 0x00, 0x02 } do
  add(S.reject_case {
    id = ("V2-VER-%02X"):format(vc), title = ("Version nibble other than 2: byte 13 = 0x%02x"):format(vc),
    refs = { "R-V2-03", "R-DET-02", "R-DET-04" }, tags = { "EC-V2-13" },
    bytes = S.v2raw(vc, 0x11, B4),
  })
end
for cmd = 0x2, 0xF do
  add(S.reject_case {
    id = ("V2-CMD-%X"):format(cmd), title = ("Unassigned command nibble: byte 13 = 0x2%X"):format(cmd),
    refs = { "R-V2-06", "R-V2-04" }, tags = { "EC-V2-14" },
    description = "EC-V2-14: receivers drop any command other than LOCAL and PROXY (a valid TCP4 block follows).",
    bytes = S.v2raw(0x20 | cmd, 0x11, B4),
  })
end
for fam = 0x4, 0xF do
  add(S.reject_case {
    id = ("V2-AF-%X"):format(fam), title = ("Family nibble 0x%X with PROXY: byte 14 = 0x%X1"):format(fam, fam),
    refs = { "R-V2-13", "R-V2-11" }, tags = { "EC-V2-15" },
    bytes = S.v2raw(0x21, (fam << 4) | 1, B4),
  })
end
for _, fb in ipairs { 0x13, 0x1F, 0x23, 0x14, 0x03 } do
  add(S.reject_case {
    id = ("V2-TR-%02X"):format(fb), title = ("Transport nibble 0x%X: byte 14 = 0x%02X"):format(fb & 0xF, fb),
    refs = { "R-V2-20", "R-V2-19" }, tags = { "EC-V2-16" },
    bytes = S.v2raw(0x21, fb, (fb >> 4) == 2 and B6 or B4),
  })
end
for pos = 1, 12 do
  local sig = SIG:sub(1, pos - 1) .. (pos == 5 and "\x20" or string.char(SIG:byte(pos) ~ 0x01)) .. SIG:sub(pos + 1)
  add(S.reject_case {
    id = ("V2-SIG-%02d"):format(pos), title = ("Signature byte %d corrupted (%02x -> %02x)"):format(pos, SIG:byte(pos), sig:byte(pos)),
    refs = { "R-V2-01", "R-DET-04", "R-DET-02" }, tags = { "EC-V2-18" },
    description = "EC-V2-18: a signature that differs in one byte is not a v2 header (position 5: the NUL replaced by a space).",
    bytes = sig .. string.char(0x21, 0x11, 0, 12) .. B4,
  })
end
local SHORT = {
  { 0x11, 0, "" }, { 0x11, 11, B4:sub(1, 11) }, { 0x21, 12, B6:sub(1, 12) }, { 0x21, 35, B6:sub(1, 35) },
  { 0x31, 215, UNIX_BLOCK:sub(1, 215) },
}
for i, s in ipairs(SHORT) do
  add(S.reject_case {
    id = ("V2-LEN-%02d"):format(i), title = ("Length too small for the family: 0x%02x with len %d"):format(s[1], s[2]),
    refs = { "R-V2-36", "R-V2-22", "R-V2-26" }, tags = { "EC-V2-20" },
    level = s[1] == 0x31 and "SHOULD" or "MUST",
    description = "EC-V2-20: the block cannot hold the announced family's addresses (UNIX is optional to decode: SHOULD).",
    bytes = S.v2raw(0x21, s[1], s[3], s[2]),
  })
end
add(S.reject_case {
  id = "V2-LEN-06", title = "Length one lower than the block (TCP4 with len 11, the last address byte left over)",
  refs = { "R-V2-36", "R-V2-37" }, tags = { "EC-F-15" },
  bytes = S.v2raw(0x21, 0x11, B4, 11),
})
add(S.reject_case {
  id = "V2-LEN-07", title = "Length one higher than the block: a CONNECT byte swallowed never ends in CONNACK",
  refs = { "R-V2-26", "R-V2-37", "R-TLV-07" }, tags = { "EC-F-14" },
  description = "EC-F-14: the receiver takes the CONNECT's first byte as a 1-byte TLV fragment (refusal) or hands MQTT a broken packet.",
  bytes = S.v2raw(0x21, 0x11, B4, 13),
})
add(S.reject_case {
  id = "V2-LEN-08", title = "Length little-endian (0C 00 = 3072) with only 12 block bytes: never parsed as len 12",
  refs = { "R-V2-26", "R-V2-34" }, tags = { "EC-V2-21" },
  description = "EC-V2-21: the header is incomplete for 3072 bytes; the receiver waits (until its timeout) or refuses; no CONNACK.",
  bytes = SIG .. string.char(0x21, 0x11, 0x0C, 0x00) .. B4, opts = { silence_ok = true },
})
add(S.reject_case {
  id = "V2-APP-01", title = "TLV-looking bytes after 16 + len are application data (MQTT refuses them)",
  refs = { "R-V2-37", "R-GEN-01" }, tags = { "EC-V2-26" },
  description = "EC-V2-26: a valid TCP4 header (len 12) followed by 02 00 05 '12345' then CONNECT: MQTT sees type 0 and closes.",
  bytes = S.v2raw(0x21, 0x11, B4) .. S.tlv(0x02, "12345"),
})

suite {
  id = "V2", title = "Version 2: the binary header and its address block (§2.2)", tags = { "v2" },
  cases = cases,
}
