-- Regressions: the known bugs and CVEs of real PROXY receivers (research peers.md §4) that
-- apply to an MQTT receiver, each replayed with the input that triggered it. Every case also
-- checks that the receiver survives (the runner notices a crashed target) and serves the
-- next client. Kinds: refuse (MUST), accept (MUST unless stated), either (INFO, survive).
local S = require "lib.suite_util"
local C = require "lib.common"

local B4, B6 = S.BLOCK4, S.BLOCK6
local function v2(body, fam, cmd, len) return S.v2raw(cmd or 0x21, fam or 0x11, body, len) end
local function ssl(client, verify, subs) return S.tlv(0x20, string.char(client) .. string.pack(">I4", verify) .. (subs or "")) end
local V13 = S.tlv(0x21, "TLSv1.3")
local A31 = S.SIG .. "\x21\x11\x00\x13\x7f\x00\x00\x01\x7f\x00\x00\x01\x00\x2a\x05\x39\x03\x00\x04\xd3\xa5\x5d\x3b"
local UNIX = ("/run/a.sock" .. ("\0"):rep(97)):rep(2)

-- Nested SSL TLVs, each holding the next (Netty CVE-2022-41881), up to ~60 KiB.
local function nested_ssl(depth)
  local inner = ""
  for _ = 1, depth do inner = S.tlv(0x20, "\x01\0\0\0\0" .. inner) end
  return inner
end

-- {id, bug, kind, bytes, refs, extra opts, level}
local REG = {
  { "01", "Caddy proxyprotocol CVE-2019-14243: UDP4 fixed header with len 0 (truncated address) crashed the daemon", "either",
    v2("", 0x12, 0x21, 0), { "R-V2-36", "R-V2-25" } },
  { "02", "Caddy proxyprotocol CVE-2019-14243: TCP4 with len 0 must not be decoded", "refuse", v2("", 0x11, 0x21, 0), { "R-V2-36" } },
  { "03", "httpd mod_remoteip #683: TCP4 with len 8 (< 12) made uninitialised bytes the client IP", "refuse", v2(B4:sub(1, 8)), { "R-V2-36" } },
  { "04", "httpd mod_remoteip #683: TCP6 with len 20 (< 36)", "refuse", v2(B6:sub(1, 20), 0x21), { "R-V2-36" } },
  { "05", "go-proxyproto CVE-2021-23351: 'PROXY ' and 100 KiB without LF buffered without bound", "refuse",
    "PROXY " .. ("A"):rep(100 * 1024), { "R-V1-23", "R-V1-26" }, { connect = false } },
  { "07", "go-proxyproto #69/#71: a v1 line over 4096 bytes overflowed the reader", "refuse", "PROXY UNKNOWN " .. ("x"):rep(4100) .. "\r\n", { "R-V1-23" }, {}, "SHOULD" },
  { "08", "Netty CVE-2022-41881: SSL TLVs nested inside SSL TLVs (~60 KiB) overflowed the stack", "either", v2(B4 .. nested_ssl(7000)), { "R-SSL-15", "R-TLV-06" } },
  { "09", "Envoy CVE-2024-23327: LOCAL without an address block crashed the listener", "accept-real", v2("", 0x00, 0x20), { "R-V2-07" } },
  { "10", "Envoy CVE-2024-23325: TCP6 addresses crashed a host without IPv6", "accept", v2(B6, 0x21), { "R-V2-17" }, { peer = S.SRC6 } },
  { "11", "Envoy CVE-2024-23324: a TLV value with invalid UTF-8 (ALPN c3 28) fed to authorisation", "either", v2(B4 .. S.tlv(0x01, "\xc3\x28")), { "R-ALPN-01" } },
  { "14", "Varnish VSV00005: the SSL TLVs of a TLS terminator (HAProxy's full set) crashed varnishd", "accept",
    v2(B4 .. S.tlv(0x01, "mqtt") .. S.tlv(0x02, "broker.example") .. ssl(7, 0, V13 .. S.tlv(0x22, "alice") .. S.tlv(0x23, "TLS_AES_256_GCM_SHA384")
       .. S.tlv(0x24, "RSA-SHA256") .. S.tlv(0x25, "RSA2048")) .. S.tlv(0x05, "uid-1")), { "R-SSL-04", "R-TLV-02" }, { peer = S.SRC4 } },
  { "15", "Varnish #4560: a CRC32C TLV of length 2 read and wrote out of bounds", "refuse", v2(B4 .. S.tlv(0x03, "\0\0")), { "R-CRC-01" }, { requires = "proxy.crc32c" } },
  { "15B", "Varnish #4560: a CRC32C TLV of length 6", "refuse", v2(B4 .. S.tlv(0x03, ("\0"):rep(6))), { "R-CRC-01" }, { requires = "proxy.crc32c" } },
  { "16", "HAProxy 7209c204b: header and data in one segment made the TLV offset come from the buffer end", "accept",
    v2(B4 .. S.tlv(0x01, "mqtt")), { "R-TLV-02", "R-V2-37" }, { peer = S.SRC4, alpn = "mqtt" } },
  { "17", "HAProxy 488ee7fb6: a TLV longer than the header ran into the payload", "refuse", v2(B4 .. S.tlv(0x02, "12345", 10)), { "R-TLV-06" }, { requires = "proxy.tlvs" } },
  { "17B", "HAProxy 488ee7fb6: stray bytes after the last TLV", "refuse", v2(B4 .. S.tlv(0x02, "1234") .. "5"), { "R-TLV-07" }, { requires = "proxy.tlvs" } },
  { "19", "HAProxy 8b72270e9: TLVs ignored on LOCAL", "accept-real", v2(S.tlv(0x01, "mqtt"), 0x00, 0x20), { "R-V2-28", "R-TLV-02" }, { alpn = "mqtt", alpn_level = "SHOULD" } },
  { "20", "HAProxy 2.6: PROXY with UNSPEC refused instead of falling back (recorded)", "either", v2("", 0x00), { "R-V2-24" } },
  { "21", "HAProxy 2.6 and Mosquitto: the long UNKNOWN form 'PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2' rejected", "accept-real",
    "PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n", { "R-V1-07", "R-V1-08" }, {}, "SHOULD" },
  { "22", "HAProxy 2.6: 'PROXY TCP4 ... 65536 1883' accepted with port 0", "refuse", "PROXY TCP4 192.0.2.1 192.0.2.2 65536 1883\r\n", { "R-V1-18" } },
  { "23", "Apache Traffic Server #12141: TLVs followed by the request in one buffer were misparsed", "accept",
    v2(B4 .. S.tlv(0x02, "ats.example") .. S.tlv(0x01, "mqtt")), { "R-TLV-02", "R-V2-37" }, { peer = S.SRC4, alpn = "mqtt" } },
  { "24", "Squid #342: v2 with fewer bytes than the address struct was over-read", "refuse", v2(B4:sub(1, 4), 0x11, 0x21, 4), { "R-V2-36" } },
  { "24B", "Squid #342: an UNKNOWN line ended by LF only was framed wrongly", "refuse", "PROXY UNKNOWN\n", { "R-V1-25" } },
  { "24C", "Squid #342: a v1 line with no CRLF past 107 bytes waited forever", "refuse", "PROXY TCP4 " .. ("1"):rep(120), { "R-V1-23" }, { connect = false }, "SHOULD" },
  { "25", "Mosquitto #3435: 2 bytes left where a TLV header is expected were read out of bounds", "refuse", v2(B4 .. S.tlv(0x01, "mqtt") .. "\x02\x00"),
    { "R-TLV-07" }, { requires = "proxy.tlvs" } },
  { "25B", "Mosquitto #3435: repeated SSL VERSION and CIPHER sub-TLVs leaked memory", "either",
    v2(B4 .. ssl(1, 0, V13 .. V13 .. S.tlv(0x23, "A") .. S.tlv(0x23, "B"))), { "R-SSL-04" } },
  { "26", "Mosquitto Coverity #1620020: PROXY command with len 0 dereferenced NULL", "refuse", v2("", 0x11, 0x21, 0), { "R-V2-36" } },
  { "27", "Mosquitto: a spec-length (216-byte) UNIX block with TLVs was 'corrupt' (TLV walk at 109)", "either",
    v2(UNIX .. S.tlv(0x01, "mqtt"), 0x31), { "R-V2-18", "R-TLV-02" } },
  { "30", "Mosquitto: the short 'PROXY UNKNOWN\\r\\n' (HAProxy's form) rejected", "accept-real", "PROXY UNKNOWN\r\n", { "R-V1-08", "R-V1-07" }, {}, "SHOULD" },
  { "35", "VerneMQ #1605: LOCAL crashed the connection process", "accept-real", v2("", 0x00, 0x20), { "R-V2-07", "R-V2-23" } },
  { "36", "VerneMQ: v2 AF_UNIX had no matching case clause (crash); now recorded", "either", v2(UNIX, 0x31), { "R-V2-25" } },
  { "37", "VerneMQ/heroku parser: SSL TLV with client 0x05 (CERT_SESS) dropped whole, CN included", "accept",
    v2(B4 .. ssl(5, 0, V13 .. S.tlv(0x22, "sess.example"))), { "R-SSL-07" }, { peer = S.SRC4, cn = "sess.example" } },
  { "38", "RabbitMQ #8654: LOCAL with len > 0 (AWS ELB) crashed socket_ends", "accept-real", v2(B4, 0x11, 0x20), { "R-V2-07", "R-V2-28" } },
  { "40", "ranch (open): SSL sub-TLVs 0x26, 0x27, 0x28 made the whole header rejected", "accept",
    v2(B4 .. ssl(7, 0, V13 .. S.tlv(0x26, "x25519") .. S.tlv(0x27, "rsa_pss_rsae_sha256") .. S.tlv(0x28, "\x30\x03\x02\x01\x01"))),
    { "R-SSL-12", "R-SSL-13", "R-SSL-14" }, { peer = S.SRC4 } },
  { "41", "ranch (open): client 0x01 + verify 0 without a certificate reported as verified", "accept",
    v2(B4 .. ssl(1, 0, V13)), { "R-SSL-02", "R-SSL-03" }, { peer = S.SRC4, unverified = true } },
  { "42", "libproxyprotocol: big-endian CRC32C from HAProxy and AWS rejected", "accept", A31, { "R-CRC-05" }, { peer = "127.0.0.1:42" } },
  { "43", "TBMQ #322/#326: LOCAL health checks closed, backend marked DOWN", "accept-real", v2("", 0x00, 0x20), { "R-V2-07" } },
  { "45", "nginx 1.22: command 2 accepted (no validation at accept time)", "refuse", v2(B4, 0x11, 0x22), { "R-V2-06" } },
  { "45B", "nginx 1.22: TCP4 with IPv6 addresses accepted", "refuse", "PROXY TCP4 2001:db8::1 2001:db8::2 1 2\r\n", { "R-V1-17" } },
  { "45C", "nginx 1.22: a wrong CRC32C accepted", "refuse", A31:sub(1, -2) .. "\x3c", { "R-CRC-06" }, { requires = "proxy.crc32c" } },
}

local cases = {}
for _, r in ipairs(REG) do
  local id, title, kind, bytes, refs, o, level = r[1], r[2], r[3], r[4], r[5], r[6] or {}, r[7]
  local requires = { "listener.pp" }
  if o.requires then requires[2] = o.requires end
  cases[#cases + 1] = case {
    id = "REG-" .. id, title = title, refs = refs, requires = requires, timeout = "15s",
    level = level or (kind == "either" and "INFO" or "MUST"),
    description = ("Guards against: %s. Expected: %s."):format(title, kind == "refuse" and "refused silently, the next client served"
      or kind == "either" and "accepted or refused (recorded); the receiver survives and serves the next client"
      or kind == "accept-real" and "accepted with the real peer" or "accepted"),
    run = function(t)
      if kind == "refuse" then
        S.refused(t, bytes, { connect = o.connect })
      elseif kind == "either" then
        S.either(t, bytes)
      else
        S.accepted(t, bytes, { peer = kind == "accept-real" and "real" or o.peer, check = function(t2, s)
          local tl = s.proxy and s.proxy.tlvs
          if o.alpn and tl then t2:check_eq(tl.alpn, o.alpn, "the TLVs are read from 16 + block", { level = o.alpn_level }) end
          if o.cn and tl and tl.ssl then t2:check_eq(tl.ssl.cn, o.cn, "the SSL TLV (CN) is kept") end
          if o.unverified and tl and tl.ssl and tl.ssl.cert_verified ~= nil then
            t2:check(tl.ssl.cert_verified ~= true, "not verified without certificate flags", { ref = "R-SSL-02" })
          end
        end }):close()
        S.still_serving(t, "pp")
      end
    end,
  }
end

-- Bugs that need a particular listener or a split:
cases[#cases + 1] = case {
  id = "REG-28", title = "Mosquitto (open): a v2 header split inside the address block got the wrong client address",
  level = "MUST", refs = { "R-V2-33", "R-GEN-03" }, requires = { "listener.pp" }, timeout = "15s",
  description = "A v2 TCP4 header cut after byte 21 (inside the address block), the rest once the first part was read: CONNACK, attributed to 203.0.113.7:40000.",
  run = function(t)
    local c = t:connect("pp")
    local cid = t:unique "reg28"
    c.mqtt_level = 4
    S.send_in_two(t, c, v2(B4) .. mqtt.connect { version = 4, client_id = cid }, 21, "R-V2-33")
    local p = c:expect_packet("CONNACK", { within = "3s" })
    t:check_eq(p.reason, 0, "accepted")
    if t:has("oracle.sessions") then
      local s = C.session(t, cid)
      if s then t:check_eq(s.attributed_peer, S.SRC4, "the address read in two pieces is the one sent", { ref = "R-GEN-03" }) end
    end
  end,
}
cases[#cases + 1] = case {
  id = "REG-29", title = "Mosquitto (open): a v2 header split right after the 16-byte fixed header was dropped",
  level = "MUST", refs = { "R-GEN-10", "R-GEN-11" }, requires = { "listener.pp" }, timeout = "15s",
  description = "Dropping a fragmented header is allowed (R-GEN-10), so tolerance is recorded; acting on the first part is not.",
  run = function(t)
    local c = t:connect("pp")
    c.mqtt_level = 4
    S.send_in_two(t, c, v2(B4) .. mqtt.connect { version = 4, client_id = t:unique "reg29" }, 16, "R-GEN-11")
    local how, p = c:expect_one_of({ { "packet", type = "CONNACK" }, { "close", data = "forbid" } }, { within = C.reject_window(t) })
    t:info("split after byte 16", how == "packet" and ("CONNACK 0x%02x"):format(p.reason) or "dropped")
  end,
}
cases[#cases + 1] = case {
  id = "REG-34", title = "esockd 772d9bd: a peer closing right after '\\r\\n' or mid v2 header crashed the acceptor",
  level = "MUST", refs = { "R-V2-34" }, requires = { "listener.pp" }, timeout = "15s",
  description = "'\\r\\n', 9 signature bytes, or 20 header bytes, then our FIN: each closed silently; the listener still serves.",
  run = function(t)
    for _, part in ipairs { "\r\n", S.SIG:sub(1, 9), v2(B4):sub(1, 20) } do
      local c = t:connect("pp")
      c:send(part)
      c:shutdown()
      C.closed_silently(t, c)
    end
    S.still_serving(t, "pp")
  end,
}
cases[#cases + 1] = case {
  id = "REG-39", title = "cowboy #1718: connect-and-close and non-PROXY bytes (NLB health checks) crashed per connection",
  level = "MUST", refs = { "R-DET-04" }, requires = { "listener.pp" }, timeout = "15s",
  description = "20 connections, half closed at once, half after 10 TLS-looking bytes; the listener still serves a valid client.",
  run = function(t)
    for i = 1, 20 do
      local c = t:connect("pp")
      if i % 2 == 0 then c:send "\x16\x03\x01\x00\x05hello" end
      c:close()
    end
    S.still_serving(t, "pp")
  end,
}
cases[#cases + 1] = case {
  id = "REG-46", title = "HAProxy 2.6: a header with a valid address and an invalid TLV was rejected but logged with the spoofed source",
  level = "MUST", refs = { "R-SEC-01", "R-TLV-06" }, requires = { "listener.pp", "oracle.events" }, timeout = "15s",
  description = "A TCP4 header naming 203.0.113.7 with an overrunning TLV: refused, and every event for it names our real address.",
  run = function(t)
    local c = S.refused(t, v2(B4 .. S.tlv(0x02, "ab", 9)), { next = false })
    local evs = S.my_events(t, c)
    t:check(#evs > 0, "the oracle logged our connection")
    for _, e in ipairs(evs) do
      t:check(e.attributed_peer ~= S.SRC4, "the refusal names the real peer, not the header's 203.0.113.7",
              { expected = c:local_addr(), actual = tostring(e.attributed_peer) })
    end
  end,
}
for _, pol in ipairs { { "cn", "REQ" }, { "cnfb", "FAL" } } do
  cases[#cases + 1] = case {
    id = "REG-31-" .. pol[2], title = "Mosquitto (open): SSL CN 'admin\\0evil' became the username 'admin' (" .. pol[1] .. " listener)",
    level = "MUST", severity = "critical", refs = { "R-SSL-08" }, requires = { "listener." .. pol[1] },
    description = "SSL TLV client 0x07 verify 0 with CN 'admin\\0evil' + CONNECT: no session with the username 'admin'.",
    run = function(t)
      local c = t:connect(pol[1])
      local cid = t:unique "reg31"
      c.mqtt_level = 4
      c:send { v2(B4 .. ssl(7, 0, V13 .. S.tlv(0x22, "admin\0evil"))), mqtt.connect { version = 4, client_id = cid, username = "u" } }
      c:expect_one_of({ { "packet", type = "CONNACK" }, { "close", data = "forbid" } }, { within = C.reject_window(t) })
      if t:has("oracle.sessions") then
        local s = t.oracle:session(cid)
        t:check(not s or s.username ~= "admin", "the username is never the CN cut at its NUL")
      end
      c:close()
    end,
  }
end
cases[#cases + 1] = case {
  id = "REG-33", title = "EMQX a64b92881d: a CN with CR LF was injected into HTTP auth requests",
  level = "MUST", severity = "critical", refs = { "R-SSL-08" }, requires = { "listener.cnfb" },
  description = "A verified CN 'bob\\r\\nX-Admin: 1' on the fallback listener: no session's username contains CR or LF.",
  run = function(t)
    local c = t:connect("cnfb")
    local cid = t:unique "reg33"
    c.mqtt_level = 4
    c:send { v2(B4 .. ssl(7, 0, V13 .. S.tlv(0x22, "bob\r\nX-Admin: 1"))), mqtt.connect { version = 4, client_id = cid, username = "u" } }
    c:expect_one_of({ { "packet", type = "CONNACK" }, { "close", data = "forbid" } }, { within = C.reject_window(t) })
    if t:has("oracle.sessions") then
      local s = t.oracle:session(cid)
      t:check(not s or not tostring(s.username):find("[\r\n]"), "no username carries CR or LF")
    end
    c:close()
  end,
}
cases[#cases + 1] = case {
  id = "REG-44", title = "EMQX #12840: a CN sent as a top-level 0x22 TLV must not become the username",
  level = "MUST", refs = { "R-TLV-08", "R-SSL-08" }, requires = { "listener.cnfb" },
  description = "A top-level TLV 0x22 'root' (no SSL TLV) on the fallback listener: the username is never 'root'.",
  run = function(t)
    local c = t:connect("cnfb")
    local cid = t:unique "reg44"
    c.mqtt_level = 4
    c:send { v2(B4 .. S.tlv(0x22, "root")), mqtt.connect { version = 4, client_id = cid, username = "u" } }
    c:expect_one_of({ { "packet", type = "CONNACK" }, { "close", data = "forbid" } }, { within = C.reject_window(t) })
    if t:has("oracle.sessions") then
      local s = t.oracle:session(cid)
      t:check(not s or s.username ~= "root", "a top-level 0x22 is not a CN")
    end
    c:close()
  end,
}

suite { id = "REG", title = "Regressions: known bugs and CVEs of PROXY receivers (peers.md §4)", cases = cases }
