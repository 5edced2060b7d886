-- PP2_TYPE_SSL (§2.2.6) and identity: the SSL TLV's packed layout and sub-TLVs (EC-SSL-01..15),
-- and the CN used as MQTT username only when the TLV shows TLS, a client certificate and
-- verify = 0 (R-SSL-02, R-SSL-03, A-12), refused or ignored otherwise per the listener policy.
-- Identity cases need CN listeners: "cn" (use_cn_as_username, policy require) and "cnfb"
-- (policy fallback), as the ppbroker target profile configures them.
local S = require "lib.suite_util"
local C = require "lib.common"

local cases = {}
local function add(c) cases[#cases + 1] = c end

-- Raw SSL TLV: client byte, verify (uint32 BE), sub-TLVs (a string) [, declared value length]
local function ssl(client, verify, subs, len)
  local value = string.char(client) .. string.pack(">I4", verify) .. (subs or "")
  return S.tlv(0x20, value, len)
end
local function hdr(tlvs) return S.v2raw(0x21, 0x11, S.BLOCK4 .. tlvs) end
local function ssl_of(s) return s and s.proxy and s.proxy.tlvs and s.proxy.tlvs.ssl end
local V13, CIPHER = S.tlv(0x21, "TLSv1.3"), S.tlv(0x23, "TLS_AES_128_GCM_SHA256")

-- ---- the SSL TLV on a plain PROXY listener (no identity use) -------------------------------
local function not_authenticated(t, s)
  local x = ssl_of(s)
  if x and x.cert_verified ~= nil then
    t:check(x.cert_verified ~= true, "the client does not count as authenticated", { ref = "R-SSL-02" })
  end
end
add(S.accept_case {
  id = "SSL-01", title = "client = 0, verify = 0, no sub-TLVs (HAProxy for a plain-TCP client): not TLS",
  refs = { "R-SSL-01", "R-SSL-03" }, tags = { "EC-SSL-01", "A-12" },
  header = hdr(ssl(0, 0)), opts = { peer = S.SRC4, check = not_authenticated },
})
add(S.accept_case {
  id = "SSL-02", title = "client = SSL, verify != 0, VERSION and CIPHER sub-TLVs are exposed",
  refs = { "R-SSL-05", "R-SSL-09", "R-SSL-04", "R-SSL-01" }, tags = { "EC-SSL-02" },
  header = hdr(ssl(1, 1, V13 .. CIPHER)), opts = { peer = S.SRC4, check = function(t, s)
    local x = ssl_of(s)
    if x then
      t:check_eq(x.version, "TLSv1.3", "SSL_VERSION is read", { ref = "R-SSL-05" })
      t:check_eq(x.cipher, "TLS_AES_128_GCM_SHA256", "SSL_CIPHER is read", { ref = "R-SSL-09" })
    end
    not_authenticated(t, s)
  end },
})
add(S.accept_case {
  id = "SSL-03", title = "client = 0x07, verify = 0, CN example.com: a verified certificate",
  refs = { "R-SSL-02", "R-SSL-06", "R-SSL-07", "R-SSL-08", "R-SSL-03" }, tags = { "EC-SSL-03" },
  header = hdr(ssl(7, 0, V13 .. S.tlv(0x22, "example.com"))), opts = { peer = S.SRC4, check = function(t, s)
    local x = ssl_of(s)
    if x then
      t:check_eq(x.cn, "example.com", "SSL_CN is read", { ref = "R-SSL-08" })
      if x.cert_verified ~= nil then t:check_eq(x.cert_verified, true, "the certificate counts as verified", { ref = "R-SSL-02" }) end
    end
  end },
})
add(S.accept_case {
  id = "SSL-04", title = "client = 0x05 (SSL + CERT_SESS, a resumed session) counts as a certificate",
  refs = { "R-SSL-07", "R-SSL-03" }, tags = { "EC-SSL-04" },
  header = hdr(ssl(5, 0, V13 .. S.tlv(0x22, "resumed.example"))), opts = { peer = S.SRC4, check = function(t, s)
    local x = ssl_of(s)
    if x and x.cert_verified ~= nil then t:check_eq(x.cert_verified, true, "CERT_SESS with verify 0 is verified", { ref = "R-SSL-07" }) end
  end },
})
add(S.accept_case {
  id = "SSL-05", title = "client = 0x03 with verify = 0x14 (a verification error): accepted, not authenticated",
  refs = { "R-SSL-02", "R-SSL-06" }, tags = { "EC-SSL-05" },
  header = hdr(ssl(3, 0x14, V13 .. S.tlv(0x22, "bad.example"))), opts = { peer = S.SRC4, check = not_authenticated },
})
add(S.accept_case {
  id = "SSL-06", title = "client = SSL, verify = 0, no certificate flags (HAProxy's real output): not authenticated",
  refs = { "R-SSL-02", "R-SSL-03" }, tags = { "EC-SSL-06", "A-12" },
  header = hdr(ssl(1, 0, V13)), opts = { peer = S.SRC4, check = not_authenticated },
})
for n = 0, 4 do
  add(case {
    id = ("SSL-07-%d"):format(n), title = ("An SSL TLV value of %d bytes (under the 5-byte minimum)"):format(n),
    level = "MUST", refs = { "R-SSL-01", "R-SSL-15" }, tags = { "EC-SSL-07" }, requires = { "listener.pp" }, timeout = "15s",
    description = "EC-SSL-07: refused, or the TLV ignored; never an over-read (the CONNECT after the header stays intact).",
    run = function(t) S.either(t, hdr(S.tlv(0x20, ("\1"):rep(n)))) end,
  })
end
local SSL_BAD = {
  { "08", "EC-SSL-08", "A sub-TLV overrunning the SSL value (inside the header)", ssl(7, 0, S.tlv(0x21, "TLSv1.3", 20)) .. ("\0"):rep(16) },
  { "09", "EC-SSL-09", "One stray byte at the end of the sub-TLV area", ssl(7, 0, V13 .. "\x21") },
  { "09B", "EC-SSL-09", "Two stray bytes at the end of the sub-TLV area", ssl(7, 0, V13 .. "\x21\x00") },
}
for _, b in ipairs(SSL_BAD) do
  add(case {
    id = "SSL-" .. b[1], title = b[3], level = "MUST", refs = { "R-SSL-15", "R-TLV-07" }, tags = { b[2] },
    requires = { "listener.pp" }, timeout = "15s",
    description = b[2] .. ": a TLV-parsing receiver (capability proxy.tlvs) refuses.",
    run = function(t) if t:has("proxy.tlvs") then S.refused(t, hdr(b[4])) else S.either(t, hdr(b[4])) end end,
  })
end
add(S.accept_case {
  id = "SSL-10", title = "Unknown sub-types 0x29, 0x2F and 0x01 inside SSL are ignored",
  refs = { "R-TLV-03", "R-SSL-04" }, tags = { "EC-SSL-10" },
  header = hdr(ssl(1, 0, S.tlv(0x29, "x") .. S.tlv(0x2F, "") .. S.tlv(0x01, "yy") .. V13)), opts = { peer = S.SRC4 },
})
add(S.accept_case {
  id = "SSL-11", title = "Packed layout: verify 01 02 03 04 at value offset 1, a sub-TLV at offset 5",
  refs = { "R-SSL-01" }, tags = { "EC-SSL-11" },
  description = "EC-SSL-11: a parser using struct alignment (verify at offset 4) reads the wrong verify and misses VERSION.",
  header = hdr(ssl(1, 0x01020304, V13)), opts = { peer = S.SRC4, check = function(t, s)
    local x = ssl_of(s)
    if x then
      t:check_eq(x.verify, 0x01020304, "verify decoded from offsets 1..4, big-endian", { ref = "R-SSL-01" })
      t:check_eq(x.version, "TLSv1.3", "the first sub-TLV starts at offset 5", { ref = "R-SSL-01" })
    end
  end },
})
add(S.accept_case {
  id = "SSL-12", title = "New sub-TLVs 0x26 GROUP, 0x27 SIG_SCHEME, 0x24 SIG_ALG, 0x25 KEY_ALG are accepted",
  refs = { "R-SSL-10", "R-SSL-11", "R-SSL-12", "R-SSL-13", "R-SSL-04" }, tags = { "EC-SSL-12" },
  description = "EC-SSL-12, and ranch (open): a receiver that refuses the whole header on 0x26-0x28 breaks behind new HAProxy/AWS.",
  header = hdr(ssl(1, 0, V13 .. S.tlv(0x26, "X25519MLKEM768") .. S.tlv(0x27, "ecdsa_secp256r1_sha256")
                        .. S.tlv(0x24, "RSA-SHA256") .. S.tlv(0x25, "RSA2048"))),
  opts = { peer = S.SRC4, check = function(t, s)
    local x = ssl_of(s)
    if x and x.group then t:check_eq(x.group, "X25519MLKEM768", "SSL_GROUP is read") end
  end },
})
local FAKE_DER = "\x30\x82\x05\xd8" .. ("\x42"):rep(1496)
add(S.accept_case {
  id = "SSL-13", title = "SSL_CLIENT_CERT (0x28) with a 1.5 KB certificate, header over 536 bytes, in three segments",
  refs = { "R-SSL-14", "R-GEN-18", "R-GEN-10" }, tags = { "EC-SSL-13", "A-02" }, level = "SHOULD",
  header = hdr(ssl(7, 0, V13 .. S.tlv(0x22, "big.example") .. S.tlv(0x28, FAKE_DER))),
  opts = { peer = S.SRC4, send = { split = 536 } },
})
add(S.accept_case {
  id = "SSL-14", title = "CN with non-ASCII UTF-8 (bücher.example) is exposed as UTF-8",
  refs = { "R-SSL-08" }, tags = { "EC-SSL-14" },
  header = hdr(ssl(7, 0, V13 .. S.tlv(0x22, "b\xc3\xbccher.example"))), opts = { peer = S.SRC4, check = function(t, s)
    local x = ssl_of(s)
    if x then t:check_eq(x.cn, "b\xc3\xbccher.example", "the CN bytes are kept") end
  end },
})
add(S.either_case {
  id = "SSL-15", title = "SSL_CLIENT_CERT holding malformed DER: no crash (recorded)",
  refs = { "R-SSL-14" }, tags = { "EC-SSL-15" },
  header = hdr(ssl(7, 0, V13 .. S.tlv(0x28, "\x30\x82\xff\xff\x01"))),
})

-- ---- identity: CN as username -----------------------------------------------------------------
local function connect_with(t, listener, header, user)
  local c = t:connect(listener)
  local cid = t:unique "cn"
  c.mqtt_level = 4
  c:send { header, mqtt.connect { version = 4, client_id = cid, username = user } }
  return c, cid
end

-- The CN is the username: CONNACK 0, session username = cn, source "cn".
local function cn_used(t, listener, header, cn)
  local c, cid = connect_with(t, listener, header, "connect-user")
  local ack = c:expect_packet("CONNACK", { within = "3s", what = "CONNACK for a verified CN" })
  t:require_eq(ack.reason, 0, "the CONNECT is accepted")
  if t:has("oracle.sessions") then
    local s = C.session(t, cid)
    t:require(s ~= nil, "the oracle lists the session")
    t:check_eq(s.username, cn, "the username is the CN", { ref = "R-SSL-08" })
    t:check_eq(s.username_source, "cn", "the username came from the CN")
  end
  c:close()
end

local function R_show(v)
  if type(v) ~= "string" then return tostring(v) end
  return (v:gsub("[%z\1-\31\127-\255]", function(ch) return ("\\x%02x"):format(ch:byte()) end))
end

-- The CN must not become the username. Policy require: the CONNECT is refused (a CONNACK with a
-- refusal code, or a silent close). Policy fallback: CONNACK 0 and the CONNECT's username.
local function cn_not_used(t, listener, header, bad_cn, policy)
  local c, cid = connect_with(t, listener, header, "connect-user")
  local how, p = c:expect_one_of({ { "packet", type = "CONNACK" }, { "close", data = "forbid" } },
                                 { within = C.reject_window(t), what = "an answer to the CONNECT" })
  local accepted = how == "packet" and p.reason == 0
  if policy == "require" then
    t:check(not accepted, "the CONNECT is refused (policy require)",
            { expected = "a CONNACK refusal or a close", actual = accepted and "CONNACK 0x00" or (how == "packet" and ("CONNACK 0x%02x"):format(p.reason) or "closed") })
  end
  if t:has("oracle.sessions") then
    local s = accepted and C.session(t, cid) or t.oracle:session(cid)
    if s then
      t:check(s.username ~= bad_cn, "the unusable CN is not the username",
              { expected = "not " .. R_show(bad_cn), actual = R_show(s.username), ref = "R-SSL-02" })
      if policy == "fallback" then t:check_eq(s.username, "connect-user", "the CONNECT's username is kept (policy fallback)") end
    elseif policy == "fallback" then
      t:check(false, "policy fallback serves the client with its own username", { expected = "a session", actual = "none" })
    end
  elseif policy == "fallback" then
    t:check(accepted, "policy fallback accepts the CONNECT")
  end
  c:close()
end

add(case {
  id = "ID-CN-01", title = "Verified certificate (TLS + CERT_CONN + CERT_SESS, verify 0): the CN is the username",
  level = "PROFILE", refs = { "R-SSL-08", "R-SSL-02", "R-SSL-03", "R-SSL-06" }, requires = { "listener.cn" },
  description = "SSL TLV client 0x07, verify 0, VERSION, CN 'alice' + CONNECT with username 'connect-user': CONNACK 0, username 'alice' from the CN.",
  run = function(t) cn_used(t, "cn", hdr(ssl(7, 0, V13 .. S.tlv(0x22, "alice"))), "alice") end,
})
add(case {
  id = "ID-CN-02", title = "TLS + CERT_CONN only (0x03), verify 0: the CN is the username",
  level = "PROFILE", refs = { "R-SSL-06", "R-SSL-02" }, requires = { "listener.cn" },
  description = "SSL TLV client 0x03, verify 0, CN 'carol': CONNACK 0, username 'carol'.",
  run = function(t) cn_used(t, "cn", hdr(ssl(3, 0, V13 .. S.tlv(0x22, "carol"))), "carol") end,
})
add(case {
  id = "ID-CN-03", title = "The CN works with a v1-less path: LOCAL carries no identity",
  level = "PROFILE", refs = { "R-V2-07", "R-SSL-08" }, requires = { "listener.cn" },
  description = "LOCAL with a verified SSL TLV: the addresses are the real ones; the CN rule is the listener's.",
  run = function(t)
    local c, cid = connect_with(t, "cn", S.v2raw(0x20, 0x00, ssl(7, 0, V13 .. S.tlv(0x22, "local-cn"))), "u")
    local how = c:expect_one_of({ { "packet", type = "CONNACK" }, { "close", data = "forbid" } }, { within = C.reject_window(t) })
    t:info("LOCAL with a CN", how)
    c:close()
  end,
})
local UNVERIFIED = {
  { "01", "client = SSL only, verify 0 (no certificate: HAProxy's zero-filled TLV)", ssl(1, 0, V13 .. S.tlv(0x22, "alice")), "alice", { "A-12" } },
  { "02", "client = 0x07 with verify = 0x14 (verification failed)", ssl(7, 0x14, V13 .. S.tlv(0x22, "alice")), "alice", {} },
  { "03", "client = 0x03 with verify = 1", ssl(3, 1, V13 .. S.tlv(0x22, "alice")), "alice", {} },
  { "04", "certificate flags without SSL (0x06), verify 0", ssl(6, 0, S.tlv(0x22, "alice")), "alice", {} },
  { "05", "client = 0 (plain TCP) with a CN sub-TLV", ssl(0, 0, S.tlv(0x22, "alice")), "alice", {} },
  { "06", "no SSL TLV at all", S.tlv(0x02, "alice"), "alice", {} },
  { "07", "a top-level 0x22 TLV (not inside 0x20), verified SSL TLV without CN", ssl(7, 0, V13) .. S.tlv(0x22, "alice"), "alice", { "EC-T-17" } },
  { "08", "a top-level 0x22 TLV and no SSL TLV (EMQX #12840 shape)", S.tlv(0x22, "alice"), "alice", { "EC-T-17" } },
  { "09", "a verified certificate without a CN sub-TLV", ssl(7, 0, V13), "", {} },
}
for _, u in ipairs(UNVERIFIED) do
  for _, pol in ipairs { { "cn", "require" }, { "cnfb", "fallback" } } do
    add(case {
      id = ("ID-UNV-%s-%s"):format(u[1], pol[2]:upper():sub(1, 3)),
      title = ("CN not used (%s): %s"):format(pol[2], u[2]), level = "MUST",
      refs = { "R-SSL-02", "R-SSL-03", "R-SSL-06", "R-SSL-07", "R-TLV-08" }, tags = u[5], requires = { "listener." .. pol[1] },
      description = ("A-12: verify = 0 alone is no authentication; only TLS + CERT_CONN/CERT_SESS + verify 0 make the CN an identity. Policy %s."):format(pol[2]),
      run = function(t) cn_not_used(t, pol[1], hdr(u[3]), u[4], pol[2]) end,
    })
  end
end
local BAD_CN = {
  { "NUL", "admin\0evil", "a NUL inside the CN (admin\\0evil, Mosquitto: became admin)", "admin" },
  { "CRLF", "alice\r\nX-Injected: 1", "CR LF inside the CN (EMQX: injected into HTTP auth requests)", nil },
  { "CTRL", "ali\x01ce", "a control character inside the CN", nil },
  { "DEL", "alice\x7f", "a DEL character inside the CN", nil },
  { "UTF8", "al\xc3\x28ice", "invalid UTF-8 in the CN", nil },
  { "LONG", ("x"):rep(300), "a CN of 300 bytes", nil },
  { "EMPTY", "", "an empty CN", nil },
}
for _, b in ipairs(BAD_CN) do
  for _, pol in ipairs { { "cn", "require" }, { "cnfb", "fallback" } } do
    add(case {
      id = ("ID-BAD-%s-%s"):format(b[1], pol[2]:upper():sub(1, 3)), title = ("CN refused as a username (%s): %s"):format(pol[2], b[3]),
      level = "PROFILE", refs = { "R-SSL-08" }, requires = { "listener." .. pol[1] },
      description = "The suite's identity profile: a CN that is not clean text is never a username, and never a truncated one.",
      run = function(t)
        local header = hdr(ssl(7, 0, V13 .. S.tlv(0x22, b[2])))
        cn_not_used(t, pol[1], header, b[2], pol[2])
        if b[4] and t:has("oracle.sessions") then
          for _, s in ipairs(t.oracle:sessions()) do
            t:check(s.username ~= b[4], "no session got the truncated CN " .. b[4] .. " as its username")
          end
        end
      end,
    })
  end
end
add(case {
  id = "ID-DUP-01", title = "A duplicated CN sub-TLV (alice, then mallory): refused, or the first CN (never a later copy)",
  level = "PROFILE", refs = { "R-SSL-08", "R-SSL-04" }, tags = { "A-15" }, requires = { "listener.cn" }, timeout = "15s",
  description = "A-15: an appended CN must never override the first; last-wins lets an intermediary pick the identity.",
  run = function(t)
    local c, cid = connect_with(t, "cn", hdr(ssl(7, 0, V13 .. S.tlv(0x22, "alice") .. S.tlv(0x22, "mallory"))), "u")
    local how, p = c:expect_one_of({ { "packet", type = "CONNACK" }, { "close", data = "forbid" } }, { within = C.reject_window(t) })
    if how == "packet" and p.reason == 0 and t:has("oracle.sessions") then
      local s = C.session(t, cid)
      if s then t:check_eq(s.username, "alice", "the first CN is the username") end
    end
    t:info("duplicate CN", how == "packet" and ("CONNACK 0x%02x"):format(p.reason) or "closed")
    c:close()
  end,
})
add(case {
  id = "ID-DUP-02", title = "A duplicated SSL TLV (verified alice, then unverified mallory): never mallory",
  level = "PROFILE", refs = { "R-SSL-08", "R-SSL-02" }, tags = { "A-15" }, requires = { "listener.cn" }, timeout = "15s",
  description = "Two SSL TLVs (CN alice, then CN mallory): refused, or served as anyone but mallory.",
  run = function(t)
    local c, cid = connect_with(t, "cn", hdr(ssl(7, 0, V13 .. S.tlv(0x22, "alice")) .. ssl(7, 0, V13 .. S.tlv(0x22, "mallory"))), "u")
    local how, p = c:expect_one_of({ { "packet", type = "CONNACK" }, { "close", data = "forbid" } }, { within = C.reject_window(t) })
    if how == "packet" and p.reason == 0 and t:has("oracle.sessions") then
      local s = C.session(t, cid)
      if s then t:check(s.username ~= "mallory", "a later SSL TLV does not override the identity") end
    end
    c:close()
  end,
})
add(case {
  id = "ID-PLAIN-01", title = "A CN-bearing header on a PROXY listener without CN use: the CONNECT username stays",
  level = "MUST", refs = { "R-SSL-08", "R-GEN-03" }, requires = { "listener.pp" },
  description = "A verified CN 'alice' on the plain PROXY listener + CONNECT with username 'bob': CONNACK 0, username 'bob'.",
  run = function(t)
    local c, cid = connect_with(t, "pp", hdr(ssl(7, 0, V13 .. S.tlv(0x22, "alice"))), "bob")
    local ack = c:expect_packet("CONNACK", { within = "3s" })
    t:check_eq(ack.reason, 0, "accepted")
    if t:has("oracle.sessions") then
      local s = C.session(t, cid)
      if s then t:check_eq(s.username, "bob", "the CN is not used where the listener does not ask for it") end
    end
    c:close()
  end,
})

-- ---- identity with TLS at the broker (PROXY before TLS, and TLS without PROXY) -------------
local function tls_client(t, second)
  local pki = t.target.pki
  if not pki then t:skip("the target gives no client certificates (t.target.pki)") end
  return { cert = second and pki.client2_cert or pki.client_cert, key = second and pki.client2_key or pki.client_key,
           ca = pki.ca, verify = true, sni = "localhost" }
end
add(case {
  id = "ID-TLS-01", title = "PROXY before TLS: a header's SSL CN never replaces the identity of the broker's own TLS session",
  level = "PROFILE", severity = "critical", refs = { "R-SSL-08", "R-GEN-03", "R-V2-37" }, requires = { "listener.pp_tls" },
  description = [[Header (PROXY TCP4, SSL TLV client 0x07 verify 0 CN 'mallory') in clear, then a TLS handshake with
    the second client certificate, then CONNECT with username 'u'. The listener does not take CNs from headers, so the
    session's username is never 'mallory'; the carried source is used.]],
  run = function(t)
    local c = t:connect("pp_tls")
    c:send(hdr(ssl(7, 0, V13 .. S.tlv(0x22, "mallory"))))
    local info, err = c:starttls(tls_client(t, true))
    t:require(info ~= nil, "TLS handshake after the header", { actual = err })
    local cid = t:unique "pptls"
    c.mqtt_level = 4
    c:send(mqtt.connect { version = 4, client_id = cid, username = "u" })
    local ack = c:expect_packet("CONNACK", { within = "3s" })
    if ack.reason == 0 and t:has("oracle.sessions") then
      local s = C.session(t, cid)
      t:require(s ~= nil, "the oracle lists the session")
      t:check(s.username ~= "mallory", "the header's CN is not the username", { actual = tostring(s.username) })
      t:check_eq(s.attributed_peer, S.SRC4, "the carried source is used", { ref = "R-GEN-03" })
    end
    t:info("CONNACK", ("0x%02x"):format(ack.reason))
    c:close()
  end,
})
add(case {
  id = "ID-TLS-02", title = "A PROXY header in front of a ClientHello on a TLS listener without PROXY: no session",
  level = "MUST", severity = "critical", refs = { "R-GEN-14", "R-SEC-01" }, tags = { "EC-S-06" }, requires = { "listener.tls" },
  timeout = "20s",
  description = "The TLS listener reads the header as the start of a ClientHello: the handshake fails, nothing is served.",
  run = function(t)
    local c = t:connect("tls")
    c:send(hdr(ssl(7, 0, V13 .. S.tlv(0x22, "mallory"))))
    local info = c:starttls(tls_client(t, false))
    if info then
      local cid = t:unique "tlshdr"
      c:send(mqtt.connect { version = 4, client_id = cid })
      c:expect_close { data = "allow", within = C.reject_window(t), what = "no MQTT session after a header on a TLS listener" }
      C.no_session(t, cid, "R-GEN-14")
    else
      t:check(true, "the TLS handshake failed on the header bytes")
    end
    c:close()
  end,
})

suite { id = "SSL", title = "PP2_TYPE_SSL and the CN as identity (§2.2.6)", tags = { "ssl" }, cases = cases }
