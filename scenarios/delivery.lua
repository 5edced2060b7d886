-- Delivery shapes (§2, §2.1, §2.2): a header split at every byte boundary, byte at a time,
-- coalesced with CONNECT, cut by a half-close, and very large headers. A receiver may drop a
-- header that arrives in pieces (R-GEN-10: tolerance is recommended; it is recorded as info), but
-- it must never decode or act on a partial header (R-GEN-11, R-V1-22, R-V2-33) and, when it
-- accepts, the carried addresses must be exact. Edge cases EC-F-01..08, -10, -16, -17,
-- EC-V1-34/35, EC-V2-24/25, EC-T-19.
local S = require "lib.suite_util"
local C = require "lib.common"

local cases = {}
local function add(c) cases[#cases + 1] = c end

-- After the whole header + CONNECT is in: CONNACK with the exact carried source, or a silent
-- close (allowed by R-GEN-10; recorded).
local function judge_tolerance(t, c, cid, peer, ref)
  local how, p = c:expect_one_of({ { "packet", type = "CONNACK" }, { "close", data = "forbid" } },
                                 { within = C.reject_window(t), what = "CONNACK, or a silent drop of the fragmented header" })
  if how == "packet" then
    t:check_eq(p.reason, 0, "CONNACK accepts the session")
    if t:has("oracle.sessions") then
      local s = C.session(t, cid)
      t:require(s ~= nil, "the oracle lists the session")
      local want = peer == "real" and c:local_addr() or peer
      t:check_eq(s.attributed_peer, want, "the carried source survives the split", { ref = ref })
    end
  else
    -- R-GEN-10 lets a receiver drop a fragmented header; tolerance is only recorded (A-01).
    -- But a receiver that accepted the header owes the valid CONNECT behind it a CONNACK:
    -- a close after accepting means it framed the bytes wrongly (decoded too early).
    for _, e in ipairs(S.my_events(t, c, { within_ms = t:ms("500ms") })) do
      t:check(e.type ~= "proxy_header", "a header the receiver accepted is followed by the CONNECT it framed",
              { expected = "CONNACK after an accepted header", actual = "closed after accepting a header (" .. tostring(e.attributed_peer) .. ")",
                ref = "R-V2-37" })
    end
    t:info("fragmentation tolerance", "not tolerated: the receiver closed (allowed by R-GEN-10)")
    C.no_session(t, cid, "R-GEN-11")
  end
end

-- One split case: `full` cut after byte `cut` (the CONNECT follows the header in part 2).
local function split_case(prefix, name, full, cut, peer, refs, ecs)
  local tags = { "split" }
  for _, e in ipairs(ecs) do tags[#tags + 1] = e end
  return case {
    id = ("DLV-SPLIT-%s-%03d"):format(prefix, cut),
    title = ("%s split after byte %d of %d"):format(name, cut, #full),
    level = "MUST", refs = refs, tags = tags, requires = { "listener.pp" }, timeout = "15s",
    description = ("The first %d bytes, then (once the receiver has read them) the rest and a CONNECT. Nothing may be decoded "
      .. "before the header is complete; if accepted the session is attributed to %s."):format(cut, peer),
    run = function(t)
      local c = t:connect("pp")
      local cid = t:unique "split"
      c.mqtt_level = 4
      local connect = mqtt.connect { version = 4, client_id = cid }
      if cut < #full then
        S.send_in_two(t, c, full .. connect, cut, refs[2])
      else -- the whole header, then CONNECT in a later segment
        c:send(full)
        S.wait_read(t, c, #full)
        c:send(connect)
      end
      judge_tolerance(t, c, cid, peer, refs[3] or refs[2])
      c:close()
    end,
  }
end

-- v1 TCP4 (47 bytes): every cut 1..47 (47 = between the header and CONNECT, EC-F-03)
local V1 = "PROXY TCP4 203.0.113.7 198.51.100.1 40000 1883\r\n"
for cut = 1, #V1 do
  local ecs = { cut == #V1 and "EC-F-03" or "EC-F-04" }
  if cut == 7 then ecs[#ecs + 1] = "EC-V1-35" end
  add(split_case("V1", "v1 TCP4 header", V1, cut, S.SRC4, { "R-GEN-10", "R-V1-22", "R-GEN-03", "R-GEN-11" }, ecs))
end
-- v2 TCP4 + ALPN TLV (35 bytes): cuts in the signature, fixed header, address block, TLV header
local V2 = S.v2raw(0x21, 0x11, S.BLOCK4 .. S.tlv(0x01, "mqtt"))
for cut = 1, #V2 do
  local ecs = { "EC-F-05" }
  if cut == 16 then ecs[#ecs + 1] = "EC-F-06" end
  if cut >= 12 and cut <= 15 then ecs[#ecs + 1] = "EC-V2-25" end
  if cut >= 29 and cut <= 30 then ecs[#ecs + 1] = "EC-T-19" end
  if cut == #V2 then ecs = { "EC-F-03" } end
  add(split_case("V2", "v2 TCP4 header with an ALPN TLV", V2, cut, S.SRC4, { "R-GEN-10", "R-V2-33", "R-GEN-03", "R-GEN-11", "R-V2-32" }, ecs))
end
-- v2 TCP6 (52 bytes): every cut
local V6 = S.v2raw(0x21, 0x21, S.BLOCK6)
for cut = 1, #V6 - 1 do
  add(split_case("V6", "v2 TCP6 header", V6, cut, S.SRC6, { "R-GEN-10", "R-V2-33", "R-GEN-03", "R-GEN-11" }, { "EC-F-05" }))
end

-- ---- byte at a time, paced ----------------------------------------------------------------
for _, b in ipairs { { "V1", V1, "EC-F-04", "R-V1-22" }, { "V2", V2, "EC-F-05", "R-V2-33" } } do
  add(case {
    id = "DLV-BYTE-" .. b[1], title = b[1] .. " header one byte per segment, 10 ms apart, then CONNECT",
    level = "MUST", refs = { "R-GEN-10", b[4], "R-GEN-11" }, tags = { b[3], "A-01" }, requires = { "listener.pp" }, timeout = "15s",
    description = "All but the last header byte one per segment 10 ms apart; nothing may be decoded yet; then the last byte and "
      .. "a CONNECT. Expects CONNACK with the carried source, or a silent drop (recorded; allowed by R-GEN-10).",
    run = function(t)
      local c = t:connect("pp")
      local cid = t:unique "byte"
      c.mqtt_level = 4
      c:send(b[2]:sub(1, -2), { split = 1, pace = "10ms" })
      S.wait_read(t, c, #b[2] - 1)
      S.check_undecided(t, c, b[4])
      c:send { b[2]:sub(-1), mqtt.connect { version = 4, client_id = cid } }
      judge_tolerance(t, c, cid, S.SRC4, b[4])
      c:close()
    end,
  })
end

-- ---- coalesced -------------------------------------------------------------------------------
local COAL = {
  { "V1", V1, S.SRC4, { "R-V1-28", "R-GEN-01", "R-GEN-03" }, "EC-F-01" },
  { "V2", V2, S.SRC4, { "R-V2-37", "R-V2-26", "R-TLV-02" }, "EC-F-02" },
  { "UNK", "PROXY UNKNOWN\r\n", "real", { "R-V1-28", "R-V1-08" }, "EC-V1-34" },
  { "LOCAL", S.v2raw(0x20, 0x00, ""), "real", { "R-V2-37", "R-V2-07" }, "EC-F-02" },
}
for _, k in ipairs(COAL) do
  add(case {
    id = "DLV-COAL-" .. k[1], title = k[1] .. " header, CONNECT, SUBSCRIBE and PUBLISH in one write: every packet intact",
    level = "MUST", refs = k[4], tags = { k[5] }, requires = { "listener.pp" },
    description = "Everything in one write; the packets after the header must arrive intact: CONNACK, SUBACK and our own PUBLISH back.",
    run = function(t)
      local c = t:connect("pp")
      local cid = t:unique "coal"
      c.mqtt_level = 4
      c:send { k[2], mqtt.connect { version = 4, client_id = cid }, mqtt.subscribe { id = 7, topics = { { "ppc/coal/" .. cid, qos = 0 } } },
               mqtt.publish { topic = "ppc/coal/" .. cid, payload = "after-the-header" } }
      t:check_eq(c:expect_packet("CONNACK").reason, 0, "CONNACK 0")
      c:expect_packet("SUBACK")
      local p = c:expect_packet("PUBLISH")
      t:check_eq(p.payload, "after-the-header", "the payload written with the header arrives intact")
      if t:has("oracle.sessions") then
        local s = C.session(t, cid)
        local want = k[3] == "real" and c:local_addr() or k[3]
        if s then t:check_eq(s.attributed_peer, want, "attributed address") end
      end
      c:close()
    end,
  })
end
add(case {
  id = "DLV-LATE-01", title = "Header, then CONNECT 100 ms later in its own segment",
  level = "MUST", refs = { "R-GEN-11", "R-V2-37" }, tags = { "EC-F-03" }, requires = { "listener.pp" },
  description = "A v2 TCP4 header with an ALPN TLV, 100 ms of nothing, then CONNECT: CONNACK 0.",
  run = function(t)
    local c = t:connect("pp")
    c:send(V2)
    t:sleep("100ms")
    C.connect_ok(t, c, "")
    c:close()
  end,
})

-- ---- half-close in the middle of a header: refused, nothing processed ------------------------
local HALF = {
  { "01", "EC-F-07", "a v1 line without CRLF, then FIN", V1:sub(1, -3), { "R-V1-22", "R-V2-34", "R-GEN-11" } },
  { "02", "EC-F-07", "a v1 line ending in CR, then FIN", V1:sub(1, -2), { "R-V1-22", "R-V1-25" } },
  { "03", "EC-F-08", "v2 with len 12 but only 6 address bytes, then FIN", S.v2raw(0x21, 0x11, S.BLOCK4:sub(1, 6), 12), { "R-V2-34", "R-V2-33" } },
  { "04", "EC-F-10", "a truncated signature (0D 0A 0D 0A 00), then FIN", S.SIG:sub(1, 5), { "R-V2-34" } },
  { "05", "EC-F-08", "v2 cut inside a TLV value, then FIN", V2:sub(1, 32), { "R-V2-34", "R-TLV-06" } },
  { "06", "EC-F-10", "the 16-byte fixed header only (len 12), then FIN", V2:sub(1, 16), { "R-V2-34" } },
  { "07", "EC-F-07", "PROXY alone, then FIN", "PROXY", { "R-V2-34", "R-DET-03" } },
}
for _, h in ipairs(HALF) do
  add(case {
    id = "DLV-HALF-" .. h[1], title = "Half-close inside a header: " .. h[3], level = "MUST", refs = h[5], tags = { h[2] },
    requires = { "listener.pp" }, timeout = "15s",
    description = h[2] .. ": the peer shuts down its side mid-header; the receiver closes without a byte sent and keeps serving.",
    run = function(t)
      local c = t:connect("pp")
      c:send(h[4])
      c:shutdown()
      C.closed_silently(t, c, "closed without an answer after the half-close")
      S.note_rejection(t, c)
      S.still_serving(t, "pp")
    end,
  })
end
add(case {
  id = "DLV-HALF-08", title = "A valid header, then FIN with no application data: no crash, the next client is served",
  level = "MUST", refs = { "R-GEN-11" }, tags = { "EC-F-16" }, requires = { "listener.pp" }, timeout = "15s",
  description = "A complete v2 header, then our FIN: the receiver closes without sending anything and keeps serving.",
  run = function(t)
    local c = t:connect("pp")
    c:send(V2)
    c:shutdown()
    c:expect_close { data = "forbid", within = C.reject_window(t), what = "closed after EOF, nothing sent" }
    S.still_serving(t, "pp")
  end,
})

-- ---- large headers and payloads ---------------------------------------------------------------
add(case {
  id = "DLV-BIG-01", title = "Header + CONNECT + a 64 KiB PUBLISH in one write: every payload byte intact",
  level = "MUST", refs = { "R-V2-37", "R-V1-28" }, tags = { "EC-F-17" }, requires = { "listener.pp" }, timeout = "15s",
  description = "For a v1 and a v2 header: header, CONNECT, SUBSCRIBE and a 64 KiB PUBLISH to that topic in one write; the PUBLISH comes back byte for byte.",
  run = function(t)
    for _, hdr in ipairs { V1, V2 } do
      local c = t:connect("pp")
      local cid = t:unique "big"
      c.mqtt_level = 4
      local payload = {}
      for i = 1, 65536 // 16 do payload[i] = ("%015d|"):format(i) end
      payload = table.concat(payload)
      c:send { hdr, mqtt.connect { version = 4, client_id = cid }, mqtt.subscribe { id = 1, topics = { "ppc/big/" .. cid } },
               mqtt.publish { topic = "ppc/big/" .. cid, payload = payload } }
      t:check_eq(c:expect_packet("CONNACK").reason, 0, "CONNACK 0")
      c:expect_packet("SUBACK")
      local p = c:expect_packet("PUBLISH", { within = "5s" })
      t:check(p.payload == payload, "the 64 KiB payload comes back byte for byte",
              { expected = #payload .. " bytes", actual = #(p.payload or "") .. " bytes" .. (p.payload == payload and "" or " (differs)") })
      c:close()
    end
  end,
})
for _, b in ipairs {
  { "02", "the largest v2 header (len 65535, NOOP padding) in 1400-byte segments", 65535 - 12 - 3, 1400, "EC-V2-24" },
  { "03", "a 64 KiB v2 header in one write", 65535 - 12 - 3, nil, "EC-V2-24" },
  { "04", "a 537-byte v2 header (just over the 536-byte promise)", 537 - 16 - 12 - 3, nil, "A-02" },
  { "05", "a 2 KB v2 header in 100-byte segments", 2048 - 16 - 12 - 3, 100, "A-02" },
} do
  add(case {
    id = "DLV-BIG-" .. b[1], title = "Large header: " .. b[2], level = "MUST",
    refs = { "R-GEN-18", "R-V2-26", "R-GEN-10" }, tags = { b[5], "A-02" }, requires = { "listener.pp" }, timeout = "15s",
    description = "A-02: TLVs break the 536-byte promise; accepting is recommended, refusing for resources is allowed (recorded); "
      .. "if accepted, CONNECT starts exactly at 16 + len and the address is exact.",
    run = function(t)
      local hdr = S.v2raw(0x21, 0x11, S.BLOCK4 .. S.tlv(0x04, ("\0"):rep(b[3])))
      local c = t:connect("pp")
      local cid = t:unique "large"
      c.mqtt_level = 4
      c:send({ hdr, mqtt.connect { version = 4, client_id = cid } }, { split = b[4] })
      judge_tolerance(t, c, cid, S.SRC4, "R-V2-26")
      c:close()
    end,
  })
end

suite { id = "DLV", title = "Delivery: splits, pacing, coalescing, half-close and size (§2)", tags = { "delivery" }, cases = cases }
