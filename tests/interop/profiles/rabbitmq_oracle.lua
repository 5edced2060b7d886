-- Cases for the rabbitmq profile's oracle (lua/targets/lib/rabbitmq_oracle.lua), run against
-- a real RabbitMQ by test_rabbitmq_oracle.py: the session RabbitMQ lists for a PROXY v2
-- connection carries the source of the header, looked up by client id; two live connections
-- carrying the same source stay two sessions; a closed connection leaves the list.
local function connect_ok(t, c, header, cid)
  c.mqtt_level = 4
  c:send { header, mqtt.connect { version = 4, client_id = cid } }
  local ack = c:expect_packet("CONNACK", { within = "5s", what = "CONNACK after a valid v2 header" })
  t:require_eq(ack.reason, 0, "CONNACK accepts the session")
end

-- Poll until the oracle no longer lists cid (closed connections leave the list at once).
local function gone(t, cid, within)
  local deadline = t:now() + t:ms(within)
  while t.oracle:session(cid) do
    if t:now() >= deadline then return false end
    t:sleep("50ms") -- a poll step; the loop ends at the deadline above
  end
  return true
end

suite {
  id = "RMQORC", title = "RabbitMQ oracle",

  case { id = "RMQORC-V2-TCP4", level = "MUST", requires = { "listener.pp", "oracle.sessions" },
    title = "A PROXY v2 TCP4 session is listed with the carried source and the user RabbitMQ chose",
    run = function(t)
      local c = t:connect "pp"
      local cid = t:unique "rmqorc4"
      connect_ok(t, c, proxy.v2 { src = "203.0.113.71:40071", dst = "198.51.100.1:1883" }, cid)
      local s = t.oracle:wait_session(cid, t:ms("3s"))
      t:require(s ~= nil, "the oracle lists the session by its client id")
      t:check_eq(s.attributed_peer, "203.0.113.71:40071", "the session is attributed to the header's source")
      t:check_eq(s.username, "guest", "anonymous MQTT runs as mqtt.default_user")
      t:check_eq(s.real_peer, nil, "no real peer is invented (RabbitMQ does not expose it)")
      t:check_eq(s.protocol_version, 4, "MQTT 3.1.1")
      t:check(t.oracle:session_exists(cid), "session_exists agrees")
      c:close()
      t:check(gone(t, cid, "3s"), "the session leaves the list once the connection is closed")
    end },

  case { id = "RMQORC-V2-TCP6", level = "MUST", requires = { "listener.pp", "oracle.sessions" },
    title = "A PROXY v2 TCP6 source is written as [address]:port",
    run = function(t)
      local c = t:connect "pp"
      local cid = t:unique "rmqorc6"
      connect_ok(t, c, proxy.v2 { family = "TCP6", src = "[2001:db8::71]:40072", dst = "[2001:db8::1]:1883" }, cid)
      local s = t.oracle:wait_session(cid, t:ms("3s"))
      t:require(s ~= nil, "the oracle lists the session by its client id")
      t:check_eq(s.attributed_peer, "[2001:db8::71]:40072", "the session is attributed to the header's source")
      c:close()
    end },

  case { id = "RMQORC-SAME-SOURCE", level = "MUST", requires = { "listener.pp", "oracle.sessions" },
    title = "Two live connections carrying the same source are two sessions; closing one keeps the other",
    run = function(t)
      local hdr = proxy.v2 { src = "203.0.113.72:40073", dst = "198.51.100.1:1883" }
      local a, b = t:connect "pp", t:connect "pp"
      local ca, cb = t:unique "rmqorca", t:unique "rmqorcb"
      connect_ok(t, a, hdr, ca)
      connect_ok(t, b, hdr, cb)
      t:require(t.oracle:wait_session(ca, t:ms("3s")) ~= nil, "the first session is listed")
      t:require(t.oracle:wait_session(cb, t:ms("3s")) ~= nil, "the second session is listed")
      a:close()
      t:check(gone(t, ca, "3s"), "the first session leaves the list")
      local s = t.oracle:session(cb)
      t:check(s ~= nil, "the second session, same carried source, is still listed")
      if s then t:check_eq(s.attributed_peer, "203.0.113.72:40073", "and still attributed to that source") end
      b:close()
    end },
}
