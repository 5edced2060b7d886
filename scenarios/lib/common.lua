-- Shared helpers for scenario files: require "lib.common".
local C = {}

-- The receiver's PROXY header timeout plus slack, in seconds (unscaled: the API scales):
-- how long a rejection may take.
function C.reject_window(t)
  local cap = t.target.capabilities["proxy.header_timeout"]
  local base = type(cap) == "string" and cap or "3s"
  return (t:ms(base) / t.scale + 2000) / 1000
end

-- Send an MQTT CONNECT (after `prefix` bytes, e.g. a PROXY header) and require CONNACK 0.
function C.connect_ok(t, c, prefix, o)
  o = o or {}
  local cid = o.client_id or t:unique(o.prefix or "ppc")
  local version = o.version or 4
  c.mqtt_level = version
  c:send({ prefix or "", mqtt.connect { version = version, client_id = cid } }, o.send)
  local ack = c:expect_packet("CONNACK", { within = o.within or "3s", what = "CONNACK after a valid header" })
  t:check_eq(ack.reason, 0, "CONNACK accepts the session")
  return cid, ack
end

-- The connection must be closed without any byte sent back (no CONNACK, nothing).
function C.closed_silently(t, c, what)
  return c:expect_close { data = "forbid", within = C.reject_window(t),
                          what = what or "closed without an answer" }
end

-- Oracle: the session of client id cid (waits a little for it to appear).
function C.session(t, cid)
  return t.oracle:wait_session(cid, t:ms("2s"))
end

-- Oracle: no session exists for cid (checked after the connection is gone).
function C.no_session(t, cid, ref)
  if not t:has("oracle.sessions") then return end
  t:check(t.oracle:session(cid) == nil, "no session exists for the rejected client", { ref = ref })
end

return C
