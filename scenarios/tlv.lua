-- TLVs, §2.2 and §2.2.1-§2.2.8: the framework (type, 16-bit length, value, inside 16 + len),
-- unknown and reserved types skipped, malformed TLV areas refused by a TLV-parsing receiver,
-- and the individual registered types. Edge cases EC-T-01..18 and A-05, A-13..A-15.
local S = require "lib.suite_util"
local C = require "lib.common"

local B4 = S.BLOCK4
local cases = {}
local function add(c) cases[#cases + 1] = c end
local function v2tlv(tlvs) return S.v2raw(0x21, 0x11, B4 .. tlvs) end

-- the decoded TLVs the oracle shows for the session (ppbroker's PROXY JSON), or nil
local function tlvs_of(s) return s and s.proxy and s.proxy.tlvs end

add(S.accept_case {
  id = "TLV-ACC-01", title = "AUTHORITY '12345' (HAProxy's reg-test vector) is accepted and exposed",
  refs = { "R-TLV-01", "R-TLV-02", "R-AUTH-01" }, tags = { "EC-T-01" },
  header = v2tlv(S.tlv(0x02, "12345")),
  opts = { peer = S.SRC4, check = function(t, s)
    local tl = tlvs_of(s)
    if tl then t:check_eq(tl.authority, "12345", "the AUTHORITY value is read from the right offset", { ref = "R-TLV-02" }) end
  end },
})
for _, ty in ipairs { 0x00, 0x06, 0x1F, 0x29, 0x31, 0xDF } do
  add(S.accept_case {
    id = ("TLV-UNK-%02X"):format(ty), title = ("Unassigned TLV type 0x%02x is skipped"):format(ty),
    refs = { "R-TLV-03", "R-RSV-04", "R-TLV-01" }, tags = { "EC-T-05" },
    header = v2tlv(S.tlv(ty, "abc") .. S.tlv(0x02, "after")), opts = { peer = S.SRC4, check = function(t, s)
      local tl = tlvs_of(s)
      if tl then t:check_eq(tl.authority, "after", "the TLV after the unknown one is still found") end
    end },
  })
end
for _, ty in ipairs { 0xE0, 0xEF, 0xF0, 0xF7, 0xF8, 0xFF } do
  add(S.accept_case {
    id = ("TLV-RSV-%02X"):format(ty), title = ("Reserved-range TLV type 0x%02x is skipped"):format(ty),
    refs = { "R-RSV-01", "R-RSV-03", "R-RSV-04", "R-TLV-03" }, tags = { "EC-T-06" },
    header = v2tlv(S.tlv(ty, "custom-data")), opts = { peer = S.SRC4 },
  })
end
for _, ty in ipairs { 0x01, 0x02, 0x04, 0x05, 0x30, 0x07, 0xE5 } do
  add(S.accept_case {
    id = ("TLV-ZERO-%02X"):format(ty), title = ("A zero-length TLV of type 0x%02x"):format(ty),
    refs = { "R-TLV-05", "R-TLV-01", "R-NOOP-02" }, tags = { "EC-T-07" },
    header = v2tlv(S.tlv(ty, "")), opts = { peer = S.SRC4 },
  })
end
local PAD = {
  { "start", function(n) return S.tlv(0x04, ("\0"):rep(n)) .. S.tlv(0x01, "mqtt") .. S.tlv(0x02, "a.example") end },
  { "middle", function(n) return S.tlv(0x01, "mqtt") .. S.tlv(0x04, ("\0"):rep(n)) .. S.tlv(0x02, "a.example") end },
  { "end", function(n) return S.tlv(0x01, "mqtt") .. S.tlv(0x02, "a.example") .. S.tlv(0x04, ("\0"):rep(n)) end },
}
for _, n in ipairs { 1, 100, 4096 } do
  for _, p in ipairs(PAD) do
    add(S.accept_case {
      id = ("TLV-NOOP-%s-%d"):format(p[1]:upper(), n), title = ("NOOP padding of %d bytes at the %s of the TLVs is ignored"):format(n, p[1]),
      refs = { "R-NOOP-01", "R-TLV-02" }, tags = { "EC-T-08" },
      header = v2tlv(p[2](n)), opts = { peer = S.SRC4, check = function(t, s)
        local tl = tlvs_of(s)
        if tl then
          t:check_eq(tl.alpn, "mqtt", "ALPN is still found")
          t:check_eq(tl.authority, "a.example", "AUTHORITY is still found")
        end
      end },
    })
  end
end
add(S.accept_case {
  id = "TLV-NOOP-5000", title = "5000 consecutive empty NOOP TLVs",
  refs = { "R-NOOP-01", "R-TLV-05" }, tags = { "EC-T-09" },
  header = v2tlv(S.tlv(0x04, ""):rep(5000) .. S.tlv(0x02, "last")), opts = { peer = S.SRC4, check = function(t, s)
    local tl = tlvs_of(s)
    if tl then t:check_eq(tl.authority, "last", "the TLV after 5000 NOOPs is found") end
  end },
})
for i, a in ipairs { { "mqtt", "mqtt" }, { "h2", "h2" }, { "", "empty" }, { "\xff\x00\x80mq", "non-ASCII with a NUL" } } do
  add(S.accept_case {
    id = ("TLV-ALPN-%d"):format(i), title = "ALPN as opaque bytes: " .. a[2],
    refs = { "R-ALPN-01" }, tags = { "EC-T-12", "A-13" },
    header = v2tlv(S.tlv(0x01, a[1])), opts = { peer = S.SRC4 },
  })
end
add(S.accept_case {
  id = "TLV-AUTH-01", title = "AUTHORITY as valid UTF-8 (bücher.example)",
  refs = { "R-AUTH-01" }, tags = { "EC-T-13" },
  header = v2tlv(S.tlv(0x02, "b\xc3\xbccher.example")), opts = { peer = S.SRC4, check = function(t, s)
    local tl = tlvs_of(s)
    if tl then t:check_eq(tl.authority, "b\xc3\xbccher.example", "the UTF-8 value is kept intact") end
  end },
})
add(S.accept_case {
  id = "TLV-AUTH-02", title = "AUTHORITY of 255 bytes",
  refs = { "R-AUTH-01" }, tags = { "EC-T-13" },
  header = v2tlv(S.tlv(0x02, ("a"):rep(251) .. ".com")), opts = { peer = S.SRC4 },
})
for i, a in ipairs { { "\xc3\x28", "invalid UTF-8 (C3 28)" }, { "host\0evil.example", "an embedded NUL" }, { "", "empty" },
                     { ("b"):rep(256), "256 bytes" }, { ("c"):rep(1500), "1500 bytes" } } do
  add(S.either_case {
    id = ("TLV-AUTH-%02d"):format(i + 2), title = "AUTHORITY with " .. a[2] .. " (recorded; never a crash)",
    refs = { "R-AUTH-01" }, tags = { "EC-T-13", "A-14" },
    header = v2tlv(S.tlv(0x02, a[1])), opts = { peer = S.SRC4, check = function(t, s)
      local tl = tlvs_of(s)
      if tl and tl.authority and a[1]:find("%z") then
        t:check(#tl.authority ~= 4, "AUTHORITY is not silently cut at the NUL", { level = "SHOULD" })
      end
    end },
  })
end
for i, n in ipairs { 0, 1, 128 } do
  add(S.accept_case {
    id = ("TLV-UID-%d"):format(i), title = ("UNIQUE_ID of %d bytes"):format(n),
    refs = { "R-UID-01", "R-TLV-01" }, tags = { "EC-T-14" },
    header = v2tlv(S.tlv(0x05, ("\x5a"):rep(n))), opts = { peer = S.SRC4 },
  })
end
add(S.either_case {
  id = "TLV-UID-4", title = "UNIQUE_ID of 129 bytes (over the sender's limit; recorded)",
  refs = { "R-UID-01" }, tags = { "EC-T-15", "A-14" },
  header = v2tlv(S.tlv(0x05, ("\x5a"):rep(129))), opts = { peer = S.SRC4 },
})
add(S.accept_case {
  id = "TLV-NETNS-1", title = "NETNS naming an unknown namespace is accepted (ignored or logged)",
  refs = { "R-NETNS-01" }, tags = { "EC-T-16" },
  header = v2tlv(S.tlv(0x30, "no-such-namespace")), opts = { peer = S.SRC4 },
})
for _, ty in ipairs { 0x21, 0x22, 0x23, 0x28 } do
  add(S.accept_case {
    id = ("TLV-SUB-%02X"):format(ty), title = ("SSL sub-type code 0x%02x at the top level is not an SSL field"):format(ty),
    refs = { "R-TLV-08", "R-TLV-03" }, tags = { "EC-T-17" },
    header = v2tlv(S.tlv(ty, "TLSv1.3")), opts = { peer = S.SRC4 },
  })
end
add(S.either_case {
  id = "TLV-UNIX-1", title = "TLVs after a UNIX (216-byte) block start at offset 232",
  refs = { "R-TLV-02", "R-V2-18" }, tags = { "EC-T-18" },
  header = S.v2raw(0x21, 0x31, ("/run/a.sock" .. ("\0"):rep(97)):rep(2) .. S.tlv(0x02, "unix.example")),
  opts = { check = function(t, s)
    local tl = tlvs_of(s)
    if tl and tl.authority then t:check_eq(tl.authority, "unix.example", "AUTHORITY read at offset 232", { ref = "R-TLV-02" }) end
  end },
})

-- ---- malformed TLV areas (A-05): a TLV-parsing receiver refuses; a skipping one may accept,
-- but nobody reads past 16 + len (the CONNECT after the header must stay intact).
local MALFORMED = {
  { "01", "EC-T-02", "A TLV value running past the header end (02 00 0A in len 0x14)", { "R-TLV-06" },
    S.v2raw(0x21, 0x11, B4 .. S.tlv(0x02, "12345", 10)) },
  { "02", "EC-T-03", "One stray byte after the last TLV (02 00 04 '1234' in len 0x14)", { "R-TLV-07" },
    S.v2raw(0x21, 0x11, B4 .. S.tlv(0x02, "1234") .. "5") },
  { "03", "EC-T-04", "A TLV area of exactly 2 bytes (01 00)", { "R-TLV-07" }, S.v2raw(0x21, 0x11, B4 .. "\1\0") },
  { "04", "EC-T-04", "A TLV area of exactly 1 byte", { "R-TLV-07" }, S.v2raw(0x21, 0x11, B4 .. "\2") },
  { "05", "EC-T-11", "A TLV declaring 0xFFFF bytes in a header whose len is at its maximum", { "R-TLV-06" },
    S.v2raw(0x21, 0x11, B4 .. S.tlv(0x04, ("\0"):rep(65535 - 12 - 3 - 3)) .. S.tlv(0x02, "", 0xFFFF)) },
  { "06", "EC-T-02", "A second TLV overrunning by one byte after a valid one", { "R-TLV-06" },
    S.v2raw(0x21, 0x11, B4 .. S.tlv(0x01, "mqtt") .. S.tlv(0x02, "ab", 3)) },
}
for _, m in ipairs(MALFORMED) do
  add(case {
    id = "TLV-BAD-" .. m[1], title = m[3], level = "MUST", refs = m[4], tags = { m[2], "A-05" },
    requires = { "listener.pp" }, timeout = "15s",
    description = m[2] .. ": a receiver that parses TLVs (capability proxy.tlvs) must refuse; any receiver must never take bytes past 16 + len.",
    run = function(t)
      if t:has("proxy.tlvs") then S.refused(t, m[5]) else S.either(t, m[5]) end
    end,
  })
end

-- ---- duplicates (A-15): recorded; an identity never comes from a later copy (PROFILE) ----
add(case {
  id = "TLV-DUP-01", title = "Two AUTHORITY TLVs: refused, or the first one used (never a later copy)", level = "PROFILE",
  refs = { "R-AUTH-01", "R-TLV-01" }, tags = { "EC-T-10", "A-15" }, requires = { "listener.pp" }, timeout = "15s",
  description = [[A-15 leaves duplicates open. The suite's profile: an intermediary appending a TLV must not
    override what the first proxy wrote, so "last one wins" fails; first-wins or refusal pass.]],
  run = function(t)
    S.either(t, v2tlv(S.tlv(0x02, "first.example") .. S.tlv(0x02, "second.example")), { check = function(t2, s)
      local tl = tlvs_of(s)
      if tl and tl.authority then t2:check_eq(tl.authority, "first.example", "the first AUTHORITY is the one used") end
    end })
  end,
})
add(S.either_case {
  id = "TLV-DUP-02", title = "Two ALPN TLVs with different values (recorded)",
  refs = { "R-ALPN-01" }, tags = { "EC-T-10", "A-15" },
  header = v2tlv(S.tlv(0x01, "mqtt") .. S.tlv(0x01, "h2")),
})

suite { id = "TLV", title = "TLVs: framework and registered types (§2.2.1-§2.2.8)", tags = { "tlv" }, cases = cases }
