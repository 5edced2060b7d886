-- Transport shapes around the header: TLS terminated by the broker (with a client
-- certificate), PROXY before TLS, and a listener limited to trusted proxies.
local C = require "lib.common"

local function tls_opts(t, which)
  local pki = t.target.pki
  if not pki then t:skip("the target gives no client certificates (t.target.pki)") end
  local cert = which == 2 and pki.client2_cert or pki.client_cert
  local key = which == 2 and pki.client2_key or pki.client_key
  return { cert = cert, key = key, ca = pki.ca, verify = true, sni = "localhost" }
end

suite {
  id = "TRN", title = "Transport: TLS, PROXY before TLS, trusted proxies",
  tags = { "transport" },

  case {
    id = "TRN-001", title = "MQTT over TLS with a client certificate; the identity becomes the username",
    level = "PROFILE", refs = {}, requires = { "listener.tls", "feature.client_certificates" },
    run = function(t)
      local c = t:connect("tls", { tls = tls_opts(t, 1) })
      local info = c:tls_info()
      t:check(info and info.version ~= "", "a TLS session", { actual = info and info.version })
      local cid = C.connect_ok(t, c, "")
      if t:has("oracle.sessions") then
        local s = C.session(t, cid)
        t:require(s ~= nil, "the oracle lists the session")
        t:check_eq(s.username, t.target.pki.client_cn, "the certificate's CN is the username")
      end
    end,
  },

  case {
    id = "TRN-002", title = "PROXY v2 before TLS: header in clear, then the TLS handshake, then MQTT",
    level = "PROFILE", refs = { "R-GEN-01", "R-V2-37" }, requires = { "listener.pp_tls" },
    run = function(t)
      local c = t:connect "pp_tls"
      c:send(proxy.v2 { src = "203.0.113.20:5000", dst = "192.0.2.1:8883" })
      local info, err = c:starttls(tls_opts(t, 2))
      t:require(info ~= nil, "TLS handshake after the header", { actual = err })
      local cid = C.connect_ok(t, c, "")
      if t:has("oracle.sessions") then
        local s = C.session(t, cid)
        t:require(s ~= nil, "the oracle lists the session")
        t:check_eq(s.attributed_peer, "203.0.113.20:5000", "the carried source is used")
      end
    end,
  },

  case {
    id = "TRN-003", title = "A valid header from outside the trusted proxies is refused",
    level = "SHOULD", severity = "critical", refs = { "R-GEN-15", "R-SEC-02" },
    requires = { "listener.trusted", "feature.trusted_proxies" }, timeout = "10s",
    run = function(t)
      local c = t:connect("trusted", { source = "127.0.0.1" })
      local cid = t:unique "untrusted"
      c:send { proxy.v2 { src = "203.0.113.30:1", dst = "192.0.2.1:1883" }, mqtt.connect { client_id = cid } }
      C.closed_silently(t, c, "refused without an answer")
      C.no_session(t, cid, "R-GEN-15")
    end,
  },

  case {
    id = "TRN-004", title = "The same header from a trusted proxy address is accepted",
    level = "SHOULD", refs = { "R-GEN-15" }, requires = { "listener.trusted", "feature.trusted_proxies" },
    run = function(t)
      local c = t:connect("trusted", { source = t.target.trusted_source or "127.0.0.254" })
      C.connect_ok(t, c, proxy.v2 { src = "203.0.113.31:1", dst = "192.0.2.1:1883" })
    end,
  },
}
