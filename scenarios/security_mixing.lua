-- Security and mixing (§2, §5): a PROXY listener takes nothing but a header first, a plain
-- listener never interprets one, a header is used once, versions are per listener, and only
-- trusted proxies may send one. For each refusal: no CONNACK, no session in the oracle, the
-- connection closed, and the listener still serving the next valid client.
-- Edge cases EC-S-01..11, EC-F-13.
local S = require "lib.suite_util"
local C = require "lib.common"

local cases = {}
local function add(c) cases[#cases + 1] = c end

-- A minimal TLS 1.2 ClientHello record (16 03 01 ...), SNI-less.
local function client_hello()
  local body = "\x03\x03" .. ("\x11"):rep(32) .. "\x00" .. "\x00\x04\x13\x01\xc0\x2f" .. "\x01\x00" .. "\x00\x00"
  local hs = "\x01" .. string.pack(">I3", #body) .. body
  return "\x16\x03\x01" .. string.pack(">I2", #hs) .. hs
end
local HTTP = "GET / HTTP/1.1\r\nHost: broker.example\r\nUser-Agent: ppconform\r\n\r\n"
local WS = "GET /mqtt HTTP/1.1\r\nHost: broker.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        .. "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"

-- ---- no header on a PROXY listener ------------------------------------------------------------
local MIX = {
  { "MQTT311", "a plain MQTT 3.1.1 CONNECT in one write", { mqtt = 4 }, nil, { "EC-S-01", "EC-S-10" } },
  { "MQTT311-SLOW", "a plain MQTT 3.1.1 CONNECT one byte every 20 ms", { mqtt = 4, split = 1, pace = "20ms" }, nil, { "EC-S-02" } },
  { "MQTT5", "a plain MQTT 5 CONNECT in one write", { mqtt = 5 }, nil, { "EC-S-03" } },
  { "MQTT5-SLOW", "a plain MQTT 5 CONNECT one byte every 20 ms", { mqtt = 5, split = 1, pace = "20ms" }, nil, { "EC-S-03" } },
  { "TLS", "a TLS ClientHello", { connect = false }, client_hello(), { "EC-S-04" } },
  { "HTTP", "an HTTP GET", { connect = false }, HTTP, { "EC-S-05" } },
  { "WS", "a WebSocket upgrade for MQTT", { connect = false }, WS, { "EC-S-05" } },
  { "P", "a lone 'P' (then silence until the header timeout)", { connect = false }, "P", { "EC-V1-35" } },
  { "PROX", "'PROX' then a CONNECT (a broken v1 start)", {}, "PROX", { "EC-V1-16" } },
  { "CRLF", "'\\r\\n\\r\\n' then a CONNECT (a broken v2 start)", {}, "\r\n\r\n", { "EC-V2-18" } },
}
for _, m in ipairs(MIX) do
  local o = { connect = m[3].connect, mqtt = m[3].mqtt, split = m[3].split, pace = m[3].pace, ref = "R-GEN-14" }
  add(S.reject_case {
    id = "SEC-MIX-" .. m[1], title = "PROXY listener refuses " .. m[2], severity = "critical",
    refs = { "R-GEN-13", "R-GEN-14", "R-DET-04", "R-SEC-01", "R-GEN-11" }, tags = m[5],
    description = "No header: no CONNACK, no session, a close, and the next valid client is served (R-GEN-14: never guess).",
    bytes = m[4] or "", opts = o,
  })
end

-- ---- a header is used once (EC-F-13) ------------------------------------------------------------
local H1 = proxy.v1 { src = "203.0.113.21:2001", dst = S.DST4 }
local H2 = proxy.v2 { src = "203.0.113.22:2002", dst = S.DST4 }
local H1b = proxy.v1 { src = "198.18.0.66:6666", dst = S.DST4 }
local H2b = proxy.v2 { src = "198.18.0.66:6666", dst = S.DST4 }
for _, d in ipairs { { "V1V1", H1, H1b, "203.0.113.21:2001" }, { "V2V2", H2, H2b, "203.0.113.22:2002" },
                     { "V1V2", H1, H2b, "203.0.113.21:2001" }, { "V2V1", H2, H1b, "203.0.113.22:2002" } } do
  add(case {
    id = "SEC-TWICE-" .. d[1], title = ("A header sent twice (%s then %s): the second is MQTT data, never a header"):format(d[1]:sub(1, 2), d[1]:sub(3)),
    level = "MUST", severity = "critical", refs = { "R-GEN-01", "R-V1-28", "R-V2-37", "R-SEC-01" }, tags = { "EC-F-13" },
    requires = { "listener.pp" }, timeout = "15s",
    description = "EC-F-13: 'P' is PUBREC and 0x0D a reserved type before CONNECT, so MQTT closes; the second header's 198.18.0.66 is never used.",
    run = function(t)
      local c = t:connect("pp")
      local cid = t:unique "twice"
      c:send { d[2], d[3], mqtt.connect { version = 4, client_id = cid } }
      C.closed_silently(t, c, "closed with no CONNACK")
      C.no_session(t, cid, "R-GEN-01")
      if S.has_admin(t) then
        local evs = S.my_events(t, c)
        t:check(#evs > 0, "the oracle logged our connection")
        for _, e in ipairs(evs) do
          t:check(e.attributed_peer ~= "198.18.0.66:6666", "the second header's address is never used (" .. e.type .. ")")
        end
      end
      S.still_serving(t, "pp")
    end,
  })
end

-- ---- a header on a listener without PROXY (EC-S-06) ---------------------------------------------
for _, h in ipairs { { "V1", proxy.v1 { src = "203.0.113.31:1", dst = S.DST4 } }, { "V2", proxy.v2 { src = "203.0.113.32:1", dst = S.DST4 } },
                     { "V2LOCAL", S.v2raw(0x20, 0x00, "") }, { "V1UNK", "PROXY UNKNOWN\r\n" } } do
  add(S.reject_case {
    id = "SEC-PLAIN-" .. h[1], title = "A " .. h[1] .. " header on a listener without PROXY is not interpreted", severity = "critical",
    refs = { "R-GEN-14", "R-SEC-01", "R-GEN-13" }, tags = { "EC-S-06" },
    description = "EC-S-06: the plain listener's MQTT parser sees 'P' or 0x0D and closes; the header's addresses are never used.",
    bytes = h[2], opts = { listener = "plain", next_header = "" },
  })
end

-- ---- versions per listener (EC-S-07, EC-S-08) --------------------------------------------------
add(S.reject_case {
  id = "SEC-VER-01", title = "A v1 header on a v2-only listener is refused", refs = { "R-DET-01", "R-GEN-07" }, tags = { "EC-S-07" },
  bytes = H1, opts = { listener = "pp2" },
})
add(S.reject_case {
  id = "SEC-VER-02", title = "A v2 header on a v1-only listener is refused", refs = { "R-DET-01", "R-GEN-06" }, tags = { "EC-S-07" },
  bytes = H2, opts = { listener = "pp1", next_header = proxy.v1 { src = "192.0.2.200:1200", dst = S.DST4 } },
})
add(case {
  id = "SEC-VER-03", title = "A listener for both versions accepts v1 and v2", level = "MUST",
  refs = { "R-DET-01", "R-DET-02", "R-DET-03", "R-GEN-06", "R-GEN-07", "R-GEN-08" }, tags = { "EC-S-08" }, requires = { "listener.pp" },
  description = "A v1 and a v2 header, each with CONNECT, on the listener configured for 1,2: both CONNACK 0 with their carried sources.",
  run = function(t)
    S.accepted(t, H1, { peer = "203.0.113.21:2001" }):close()
    S.accepted(t, H2, { peer = "203.0.113.22:2002" }):close()
  end,
})

-- ---- trusted proxies (EC-S-09) ------------------------------------------------------------------
add(case {
  id = "SEC-TRUST-01", title = "A valid header from outside the trusted proxies is refused; a trusted one is served",
  level = "SHOULD", severity = "high", refs = { "R-GEN-15", "R-SEC-02" }, tags = { "EC-S-09" },
  requires = { "listener.trusted" }, timeout = "15s",
  description = "ppbroker: proxy_protocol_trusted_proxies = 127.0.0.254/32; we connect from 127.0.0.1, then from the trusted source.",
  run = function(t)
    -- the target names the source address its trusted-proxy list admits (ppbroker: 127.0.0.254)
    local trusted = t.target.trusted_source or t.target.capabilities["trusted.source"]
    if not trusted then t:skip("the target does not say which source address is trusted (trusted_source)") end
    S.refused(t, proxy.v2 { src = "203.0.113.41:1", dst = S.DST4 }, { listener = "trusted", source = "127.0.0.1", next_source = trusted })
  end,
})

-- ---- LOCAL with forged addresses: the real peer everywhere (EC-S-11) ----------------------------
add(case {
  id = "SEC-LOCAL-01", title = "LOCAL with a forged block: logs and events name the real peer, never 203.0.113.7",
  level = "MUST", severity = "critical", refs = { "R-V2-07", "R-SEC-01" }, tags = { "EC-S-11" }, requires = { "listener.pp" },
  description = "LOCAL (0x20) with family 0x11 and a block naming 203.0.113.7 + CONNECT: CONNACK 0, and the session and every event name our real address.",
  run = function(t)
    local c = S.accepted(t, S.v2raw(0x20, 0x11, S.BLOCK4), { peer = "real" })
    if S.has_admin(t) then
      c:close()
      local evs = S.my_events(t, c)
      t:check(#evs > 0, "the oracle logged our connection")
      for _, e in ipairs(evs) do
        t:check(e.attributed_peer == c:local_addr(), "event " .. e.type .. " is attributed to the real peer",
                { expected = c:local_addr(), actual = tostring(e.attributed_peer) })
      end
    end
  end,
})

suite { id = "SEC", title = "Security and mixing: configuration decides, never guessing (§2, §5)", tags = { "security" }, cases = cases }
