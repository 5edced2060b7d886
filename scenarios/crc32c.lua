-- CRC32C TLV, §2.2.3: a receiver that supports it recomputes the CRC over 16 + len bytes with
-- the value zeroed and refuses a mismatch (R-CRC-05, R-CRC-06). Vectors of Appendix A.3.
-- Edge cases EC-C-01..10.
local S = require "lib.suite_util"

local cases = {}
local function add(c) cases[#cases + 1] = c end

local function hexbytes(h) return (h:gsub("%s+", ""):gsub("..", function(x) return string.char(tonumber(x, 16)) end)) end
local A31 = hexbytes "0d0a0d0a000d0a515549540a 21 11 0013 7f000001 7f000001 002a 0539 03 0004 d3a55d3b"
local A32 = hexbytes "0d0a0d0a000d0a515549540a 20 00 0007 03 0004 a9b87e8f"
local A33 = hexbytes("0d0a0d0a000d0a515549540a 21 21 0035" .. ("00"):rep(15) .. "01" .. ("00"):rep(15) .. "01 0001 0002 04 0000 03 0004 11a29f90 01 0004 6d717474")

-- The A.3.1 header with other bytes: f(bytes) -> bytes
local function a31_with(f) return f(A31) end
local function flip(s, pos, mask) return s:sub(1, pos - 1) .. string.char(s:byte(pos) ~ (mask or 1)) .. s:sub(pos + 1) end

add(S.accept_case {
  id = "CRC-ACC-01", title = "A.3.1: PROXY TCP4 with a valid CRC32C last (0xD3A55D3B)",
  refs = { "R-CRC-01", "R-CRC-05", "R-CRC-06" }, tags = { "EC-C-01" },
  header = A31, opts = { peer = "127.0.0.1:42", check = function(t, s)
    local tl = s.proxy and s.proxy.tlvs
    if tl and tl.crc32c then t:check_eq(tl.crc32c, "ok", "the receiver verified the CRC", { ref = "R-CRC-05" }) end
  end },
})
add(S.accept_case {
  id = "CRC-ACC-02", title = "A.3.2: LOCAL/UNSPEC with only a valid CRC32C", refs = { "R-CRC-05", "R-V2-07" },
  tags = { "EC-C-02" }, header = A32, opts = { peer = "real" },
})
add(S.accept_case {
  id = "CRC-ACC-03", title = "A.3.3: the CRC TLV between NOOP and ALPN on TCP6 (covers all 16 + len bytes)",
  refs = { "R-CRC-05", "R-CRC-01" }, tags = { "EC-C-03" }, header = A33, opts = { peer = "[::1]:1" },
})
add(S.accept_case {
  id = "CRC-ACC-04", title = "A CRC32C computed by the builder, with AUTHORITY and UNIQUE_ID around it",
  refs = { "R-CRC-05" }, tags = { "EC-C-11" },
  header = proxy.v2 { src = S.SRC4, dst = S.DST4, tlvs = { proxy.authority "a.example", proxy.crc32c(), proxy.unique_id "id-1" } },
  opts = { peer = S.SRC4 },
})
add(case {
  id = "CRC-ACC-05", title = "The payload after the header is not covered: any CONNECT follows a valid CRC", level = "MUST",
  refs = { "R-CRC-05", "R-V2-37" }, tags = { "EC-C-09" }, requires = { "listener.pp" },
  description = "EC-C-09: the A.3.1 header followed once by a 3.1.1 CONNECT and once by a 5.0 CONNECT; both get CONNACK 0.",
  run = function(t)
    for _, v in ipairs { 4, 5 } do
      local c = S.accepted(t, A31, { mqtt = v })
      c:close()
    end
  end,
})

-- ---- refused by a CRC-capable receiver (capability proxy.crc32c) --------------------------
local BAD = {
  { "01", "EC-C-04", "The CRC value with one bit flipped", { "R-CRC-06", "R-CRC-07" }, flip(A31, #A31, 0x01) },
  { "02", "EC-C-04", "The CRC value with its top bit flipped", { "R-CRC-06" }, flip(A31, #A31 - 3, 0x80) },
  { "03", "EC-C-05", "A correct CRC, then the source port changed", { "R-CRC-06", "R-CRC-05" }, flip(A31, 26, 0x01) },
  { "04", "EC-C-05", "A correct CRC, then the source address changed", { "R-CRC-06" }, flip(A31, 17, 0x02) },
  { "05", "EC-C-05", "A.3.3 with the ALPN value changed after the CRC", { "R-CRC-06", "R-CRC-05" }, flip(A33, #A33, 0x20) },
  { "06", "EC-C-04", "A.3.2 (LOCAL) with a wrong CRC: LOCAL is checked too", { "R-CRC-06" }, flip(A32, #A32, 0x10) },
  { "07", "EC-C-04", "A CRC of zero", { "R-CRC-06" }, A31:sub(1, -5) .. "\0\0\0\0" },
}
for _, len in ipairs { 0, 3, 5, 8 } do
  local hdr = S.v2raw(0x21, 0x11, S.BLOCK4 .. S.tlv(0x03, ("\0"):rep(len)))
  BAD[#BAD + 1] = { ("L%d"):format(len), "EC-C-07", ("A CRC32C TLV of length %d"):format(len), { "R-CRC-01" }, hdr }
end
for _, b in ipairs(BAD) do
  add(S.reject_case {
    id = "CRC-BAD-" .. b[1], title = b[3] .. " is refused", refs = b[4], tags = { b[2] },
    requires = { "listener.pp", "proxy.crc32c" },
    description = b[2] .. ": a receiver that supports CRC32C recomputes it and treats a mismatch as invalid.",
    bytes = b[5],
  })
end

-- ---- recorded ------------------------------------------------------------------------------
add(S.either_case {
  id = "CRC-AMB-01", title = "The CRC stored little-endian (3b 5d a5 d3), as RFC 4960 places it",
  refs = { "R-CRC-05" }, tags = { "EC-C-06", "A-10" },
  description = "A-10: the spec gives no byte order; HAProxy and AWS write big-endian. Recorded.",
  header = A31:sub(1, -5) .. "\x3b\x5d\xa5\xd3",
})
add(S.either_case {
  id = "CRC-AMB-02", title = "Two CRC TLVs, each computed with both fields zeroed (recorded)",
  refs = { "R-CRC-05" }, tags = { "EC-C-08", "A-15" },
  header = function()
    local h = S.v2raw(0x21, 0x11, S.BLOCK4 .. S.tlv(0x03, "\0\0\0\0") .. S.tlv(0x03, "\0\0\0\0"))
    local v = string.pack(">I4", proxy.crc(h))
    return h:sub(1, 31) .. v .. h:sub(36, 38) .. v
  end,
})
add(S.either_case {
  id = "CRC-CAP-01", title = "A wrong CRC at a receiver without CRC support may be accepted (recorded)",
  refs = { "R-CRC-08" }, tags = { "EC-C-10" },
  description = "EC-C-10: only a receiver that claims no proxy.crc32c capability may accept; see CRC-BAD-* for the others.",
  header = flip(A31, #A31, 0x01),
})

-- ---- require_crc32c listener (PROFILE: the target offers a listener that demands it) --------
add(S.reject_case {
  id = "CRC-REQ-01", title = "A listener that requires CRC32C refuses a v2 header without one", level = "PROFILE",
  refs = { "R-CRC-05" }, requires = { "listener.crc" },
  description = "ppbroker: listener.tcp.crc.proxy_protocol_require_crc32c = on.",
  bytes = S.v2raw(0x21, 0x11, S.BLOCK4), opts = { listener = "crc", next_header = A31 },
})
add(S.accept_case {
  id = "CRC-REQ-02", title = "A listener that requires CRC32C accepts A.3.1", level = "PROFILE",
  refs = { "R-CRC-05" }, requires = { "listener.crc" },
  header = A31, opts = { listener = "crc", peer = "127.0.0.1:42" },
})

suite { id = "CRC", title = "CRC32C (§2.2.3)", tags = { "crc32c" }, cases = cases }
