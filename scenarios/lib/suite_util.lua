-- Helpers for the conformance suite files (delivery, v1_grammar, v2_header, tlv, ...):
-- require "lib.suite_util". Built only on the scenario API (t, conn, oracle, proxy, mqtt).
local C = require "lib.common"
local S = {}

S.SIG = proxy.SIGNATURE
S.CONNECT_311 = "\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00"     -- A.2, 14 bytes
S.CONNECT_5 = "\x10\x0d\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x00"   -- A.2, 15 bytes

-- Addresses the suite puts in headers (documentation ranges, never our own loopback).
S.SRC4, S.DST4 = "203.0.113.7:40000", "198.51.100.1:1883"
S.SRC6, S.DST6 = "[2001:db8::7]:40000", "[2001:db8::1]:1883"

-- A v1 TCP4 line from text fields: S.v1("192.0.2.1 192.0.2.2 1 2") -> "PROXY TCP4 ...\r\n"
function S.v1(fields, proto) return ("PROXY %s %s\r\n"):format(proto or "TCP4", fields) end

-- A v2 fixed header + raw body: S.v2raw(0x21, 0x11, body [, len]) (len defaults to #body)
function S.v2raw(ver_cmd, fam, body, len)
  body = body or ""
  len = len or #body
  return S.SIG .. string.char(ver_cmd, fam, (len >> 8) & 0xff, len & 0xff) .. body
end

-- A 12-byte IPv4 block 203.0.113.7:40000 -> 198.51.100.1:1883 and a 36-byte IPv6 block.
S.BLOCK4 = string.char(203, 0, 113, 7, 198, 51, 100, 1) .. string.pack(">I2I2", 40000, 1883)
S.BLOCK6 = string.char(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7)
        .. string.char(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)
        .. string.pack(">I2I2", 40000, 1883)

-- A raw TLV: type, value [, declared length]
function S.tlv(ty, value, len)
  value = value or ""
  len = len or #value
  return string.char(ty, (len >> 8) & 0xff, len & 0xff) .. value
end

-- Patch a CRC32C into a v2 header whose CRC value sits at byte offset `at` (1-based, the
-- first of the 4 value bytes, currently zero): big-endian, as HAProxy writes it.
function S.with_crc(hdr, at, little_endian)
  local crc = proxy.crc(hdr)
  local v = little_endian and string.pack("<I4", crc) or string.pack(">I4", crc)
  return hdr:sub(1, at - 1) .. v .. hdr:sub(at + 4)
end

-- Is the oracle ppbroker's admin API (events, connections)?
function S.has_admin(t)
  return t:has("oracle.events") and t.oracle and t.oracle.kind == "ppbroker-admin"
end

-- The receiver's state for our connection (ppbroker: /api/v1/connections), or nil.
function S.server_conn(t, c)
  if not S.has_admin(t) then return nil end
  local me = c:local_addr()
  for _, x in ipairs(t.oracle:get_json("/api/v1/connections").connections or {}) do
    if x.real_peer == me then return x end
  end
  return nil
end

-- Wait until the receiver has read at least n header bytes of our connection, so the next
-- write is a separate read on its side. Returns "read", "left_header_stage" (it decided
-- already), "gone" or "timeout". Without an admin oracle: a short pause (pacing only).
function S.wait_read(t, c, n)
  if not S.has_admin(t) then t:sleep("30ms"); return "read" end
  local deadline = t:now() + t:ms("2s")
  while true do
    local x = S.server_conn(t, c)
    if x and x.state ~= "proxy" then return "left_header_stage" end
    if x and (x.header_bytes or 0) >= n then return "read" end
    if not x and t:now() > deadline - t:ms("1500ms") then return "gone" end
    if t:now() >= deadline then return "timeout" end
    t:sleep("5ms")
  end
end

-- ---- events of our own connection ------------------------------------------------------------
-- The runner keeps each connection's event watermark (t:connect takes it) and the oracle's
-- events_for(conn) reads only that connection's events, however the OS reuses source ports.

-- Our connection's events ({} without an event oracle); waits (up to opts.within_ms, default
-- 2 s) for a final one unless opts.no_wait. conn: the receiver's connection id, when known.
function S.my_events(t, c, opts, conn)
  opts = opts or {}
  if not S.has_admin(t) then return {} end
  local events = t.oracle:events_for(c, { within_ms = opts.within_ms or t:ms("2s"), no_wait = opts.no_wait, conn = conn })
  return events
end

-- R-GEN-11 / R-V1-22 / R-V2-33: nothing about the header was decided (no proxy_header event,
-- no MQTT stage) while only part of it has arrived.
function S.check_undecided(t, c, ref)
  if not S.has_admin(t) then return true end
  local x = S.server_conn(t, c)
  -- gone already (closing on a partial header is allowed), but not after decoding it
  local ev = S.my_events(t, c, { no_wait = true }, x and x.conn)
  for _, e in ipairs(ev) do
    if e.type == "proxy_header" then
      return t:check(false, "the receiver decoded a header before it was complete",
                     { expected = "no proxy_header event yet", actual = "proxy_header event, attributed " .. tostring(e.attributed_peer), ref = ref })
    end
  end
  if not x then return true end
  return t:check(x.state == "proxy", "the connection is still in its header stage",
                 { expected = "state proxy", actual = "state " .. tostring(x.state), ref = ref })
end

-- Send part 1, let the receiver read it, check it decided nothing, send part 2.
-- Returns false when the receiver closed on part 1 (the caller decides what that means).
function S.send_in_two(t, c, bytes, cut, ref)
  c:send(bytes:sub(1, cut))
  local st = S.wait_read(t, c, cut)
  S.check_undecided(t, c, ref or "R-GEN-11")
  if st == "gone" then return false end
  local ok = c:send(bytes:sub(cut + 1))
  return ok and true or false
end

-- Record the receiver's rejection reason (ppbroker's event) as information.
function S.note_rejection(t, c)
  if not S.has_admin(t) then return end
  local ev = S.my_events(t, c, { within_ms = t:ms("500ms") })
  for _, e in ipairs(ev) do
    if e.type:find("_reject$") or e.type == "close" then
      t:info("receiver reason", tostring(e.reason) .. (e.refs and (" " .. table.concat(e.refs, ",")) or ""))
      return e
    end
  end
end

-- The listener still serves a valid client after a refusal.
function S.still_serving(t, listener, o)
  o = o or {}
  local good = t:connect(listener or "pp", { source = o.source })
  local hdr = o.header
  if hdr == nil then
    local l = t.target.listeners[listener or "pp"]
    if l and l.proxy == false then hdr = "" else hdr = proxy.v2 { src = "192.0.2.200:1200", dst = S.DST4 } end
  end
  C.connect_ok(t, good, hdr, { prefix = "next" })
  good:close()
end

-- The full refusal check: bytes (header + what follows) are sent, the receiver answers
-- nothing and closes, no session exists, and the listener serves the next client.
-- o: listener, connect (append a CONNECT, default true), split, pace, silence_ok (a receiver
-- may instead wait silently until our deadline: inputs it cannot yet rule out), source, next
-- (false: skip the next-client check), next_header / next_source (what the next client uses).
function S.refused(t, bytes, o)
  o = o or {}
  local listener = o.listener or "pp"
  local c = t:connect(listener, { source = o.source })
  local cid = t:unique "refused"
  local payload = { bytes }
  if o.connect ~= false then payload[2] = mqtt.connect { version = o.mqtt or 4, client_id = cid } end
  c:send(payload, { split = o.split, pace = o.pace })
  if o.silence_ok then
    local how = c:expect_one_of({ { "close", data = "forbid" }, { "silence" } },
                                { within = C.reject_window(t), what = o.what or "no answer, then a close (or silence until our deadline)" })
    t:info("refusal", how == "close" and "closed" or "kept open, silent, until our deadline")
  else
    C.closed_silently(t, c, o.what or "closed with nothing sent back (no CONNACK)")
  end
  S.note_rejection(t, c)
  C.no_session(t, cid, o.ref)
  c:close()
  if o.next ~= false then
    S.still_serving(t, listener, { source = o.next_source or o.source, header = o.next_header })
  end
  return c
end

-- Accepted: header + CONNECT gets CONNACK 0; the session is attributed to `peer`
-- ("real" = our own socket address, nil = not checked). o.check(t, session) inspects more.
function S.accepted(t, header, o)
  o = o or {}
  local c = t:connect(o.listener or "pp", { source = o.source })
  local cid = C.connect_ok(t, c, header, { version = o.mqtt, send = o.send })
  if t:has("oracle.sessions") and (o.peer or o.check) then
    local s = C.session(t, cid)
    t:require(s ~= nil, "the oracle lists the session")
    if o.peer then
      local want = o.peer == "real" and c:local_addr() or o.peer
      t:check_eq(s.attributed_peer, want, o.peer == "real" and "the session keeps the real peer" or "the session is attributed to the carried source",
                 { ref = o.ref })
    end
    if o.check then o.check(t, s, c) end
  end
  return c, cid
end

-- Either outcome allowed (the spec leaves it open): CONNACK (then `on_accept`) or a silent
-- close. Returns "accepted" | "refused". Invariants checked on both branches.
function S.either(t, header, o)
  o = o or {}
  local c = t:connect(o.listener or "pp", { source = o.source })
  local cid = t:unique "either"
  c.mqtt_level = 4
  c:send({ header, mqtt.connect { version = 4, client_id = cid } }, o.send)
  local how, p = c:expect_one_of({ { "packet", type = "CONNACK" }, { "close", data = "forbid" } },
                                 { within = C.reject_window(t), what = o.what or "CONNACK or a silent close (both allowed)" })
  if how == "packet" then
    t:info("outcome", "accepted (CONNACK 0x" .. ("%02x"):format(p.reason or 0) .. ")")
    if (o.peer or o.check) and t:has("oracle.sessions") then
      local s = C.session(t, cid)
      if s and o.peer then
        -- o.peer: one address, "real", or a list of allowed ones
        local allowed = type(o.peer) == "table" and o.peer or { o.peer }
        local ok, names = false, {}
        for _, p in ipairs(allowed) do
          local want = p == "real" and c:local_addr() or p
          names[#names + 1] = want
          if s.attributed_peer == want then ok = true end
        end
        t:check(ok, "if accepted, the session uses an allowed address",
                { expected = table.concat(names, " or "), actual = tostring(s.attributed_peer), ref = o.ref })
      end
      if s and o.check then o.check(t, s, c) end
    end
    c:close()
    return "accepted", c
  end
  t:info("outcome", "refused (closed without an answer)")
  S.note_rejection(t, c)
  C.no_session(t, cid, o.ref)
  S.still_serving(t, o.listener or "pp")
  return "refused", c
end

-- Bytes for people (CASES.md, descriptions): escaped text when printable, hex otherwise.
function S.show_bytes(b)
  if type(b) ~= "string" then return "(computed when the case runs)" end
  local body = b:sub(1, 64)
  local text
  if not body:find("[^\32-\126\r\n\t]") then
    text = "`" .. body:gsub("\r", "\\r"):gsub("\n", "\\n"):gsub("\t", "\\t"):gsub("`", "'") .. "`"
  else
    text = "hex " .. S.hex(body:sub(1, 40)) .. (#body > 40 and " ..." or "")
  end
  if #b > 64 or (#b > 40 and text:sub(1, 3) == "hex") then text = text .. (" (%d bytes)"):format(#b) end
  return text
end

local function describe(spec, sends, expects)
  local d = spec.description and (spec.description:gsub("%s+", " ") .. " ") or ""
  spec.description = d .. "Sends: " .. sends .. ". Expects: " .. expects .. "."
end

local function peer_text(p)
  if p == nil then return "" end
  if type(p) == "table" then
    local out = {}
    for _, x in ipairs(p) do out[#out + 1] = peer_text(x) end
    return table.concat(out, " or ")
  end
  return p == "real" and "the real peer" or p
end

-- Declare a case whose input must be refused (bytes: a string or function(t) -> string).
function S.reject_case(spec)
  local bytes, o = spec.bytes, spec.opts or {}
  spec.bytes, spec.opts = nil, nil
  describe(spec, S.show_bytes(bytes) .. (o.connect ~= false and " + CONNECT" or "") .. (o.split and " in pieces" or "")
    .. " on listener " .. (o.listener or "pp"),
    "no CONNACK, a close" .. (o.silence_ok and " (or silence until the header timeout)" or "")
    .. ", no session, and the listener serves the next client")
  spec.requires = spec.requires or { "listener." .. (o.listener or "pp") }
  spec.level = spec.level or "MUST"
  spec.timeout = spec.timeout or "15s"
  spec.run = function(t)
    local b = type(bytes) == "function" and bytes(t) or bytes
    S.refused(t, b, o)
  end
  return case(spec)
end

-- Declare a case whose header must be accepted (with o.peer checked when given).
function S.accept_case(spec)
  local header, o = spec.header, spec.opts or {}
  spec.header, spec.opts = nil, nil
  describe(spec, S.show_bytes(header) .. " + CONNECT on listener " .. (o.listener or "pp"),
    "CONNACK 0" .. (o.peer and (", session attributed to " .. peer_text(o.peer)) or ""))
  spec.requires = spec.requires or { "listener." .. (o.listener or "pp") }
  spec.level = spec.level or "MUST"
  spec.run = function(t)
    local h = type(header) == "function" and header(t) or header
    local c = S.accepted(t, h, o)
    c:close()
  end
  return case(spec)
end

-- Declare a case where the spec allows accepting or refusing (recorded as INFO by default).
function S.either_case(spec)
  local header, o = spec.header, spec.opts or {}
  spec.header, spec.opts = nil, nil
  describe(spec, S.show_bytes(header) .. " + CONNECT on listener " .. (o.listener or "pp"),
    "CONNACK" .. (o.peer and (" (attributed to " .. peer_text(o.peer) .. ")") or "") .. " or a silent close, both allowed; the outcome is recorded")
  spec.requires = spec.requires or { "listener." .. (o.listener or "pp") }
  spec.level = spec.level or "INFO"
  spec.timeout = spec.timeout or "15s"
  spec.run = function(t)
    local h = type(header) == "function" and header(t) or header
    S.either(t, h, o)
  end
  return case(spec)
end

-- Hex of a short string for titles and descriptions.
function S.hex(s)
  local out = {}
  for i = 1, #s do out[#out + 1] = ("%02x"):format(s:byte(i)) end
  return table.concat(out, " ")
end

return S
