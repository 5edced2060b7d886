-- Detection: a PROXY listener takes only PROXY (R-GEN-13, R-GEN-14, R-DET-*), and what a
-- valid header carries is what the broker uses (R-GEN-03, R-V2-07).
local C = require "lib.common"

-- A.2 in the requirements: 14- and 15-byte CONNECTs (shorter than a v2 signature)
local CONNECT_311_14 = "\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00"
local CONNECT_5_15 = "\x10\x0d\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x00"

suite {
  id = "DET", title = "Detection: a PROXY listener takes only PROXY headers",
  tags = { "detection" },

  case {
    id = "DET-001", title = "Plain MQTT 3.1.1 CONNECT without a header gets no CONNACK and is closed",
    level = "MUST", severity = "critical", refs = { "R-GEN-13", "R-GEN-14", "R-DET-04", "R-SEC-01" },
    requires = { "listener.pp" }, timeout = "10s", tags = { "security" },
    description = [[A client talks MQTT straight to a listener configured for PROXY. The
      receiver must not guess that no header is coming: no CONNACK, no session, a close.]],
    run = function(t)
      local c = t:connect "pp"
      local cid = t:unique "nohdr"
      c:send(mqtt.connect { version = 4, client_id = cid })
      C.closed_silently(t, c, "closed with no CONNACK")
      C.no_session(t, cid, "R-GEN-14")
    end,
  },

  case {
    id = "DET-002", title = "A 14-byte CONNECT (shorter than a v2 signature) is never answered",
    level = "MUST", refs = { "R-DET-04", "R-V1-27", "R-GEN-11" }, requires = { "listener.pp" }, timeout = "10s",
    interpretation = [[0x10 is neither 0x0D nor 'P', so a receiver can reject at once; one
      that waits for more bytes until its header timeout still passes, as long as it never
      answers.]],
    run = function(t)
      local c = t:connect "pp"
      c:send(CONNECT_311_14)
      local how = c:expect_one_of({ { "close", data = "forbid" }, { "silence" } },
                                  { within = C.reject_window(t), what = "no answer to a header-less CONNECT" })
      t:info("rejection", how == "close" and "closed" or "kept open until our deadline")
    end,
  },

  case {
    id = "DET-003", title = "Plain MQTT 5 CONNECT without a header gets no CONNACK",
    level = "MUST", refs = { "R-DET-04", "R-GEN-14" }, requires = { "listener.pp" }, timeout = "10s",
    run = function(t)
      local c = t:connect "pp"
      c:send(CONNECT_5_15)
      c:expect_one_of({ { "close", data = "forbid" }, { "silence" } },
                      { within = C.reject_window(t), what = "no answer to a header-less MQTT 5 CONNECT" })
    end,
  },

  case {
    id = "DET-004", title = "Valid v1 header + CONNECT: CONNACK, and the broker uses the carried source",
    level = "MUST", refs = { "R-GEN-06", "R-DET-03", "R-GEN-03", "R-V1-28" }, requires = { "listener.pp" },
    run = function(t)
      local c = t:connect "pp"
      local cid = C.connect_ok(t, c, proxy.v1 { src = "203.0.113.7:40000", dst = "198.51.100.1:1883" })
      if t:has("oracle.sessions") then
        local s = C.session(t, cid)
        t:require(s ~= nil, "the oracle lists the session")
        t:check_eq(s.attributed_peer, "203.0.113.7:40000", "the session is attributed to the carried source", { ref = "R-GEN-03" })
        -- an oracle that cannot see the socket's peer (RabbitMQ's management API) does not
        -- claim oracle.real_peer; where it is claimed, the session must name our socket
        if t:has("oracle.real_peer") then
          t:check_eq(s.real_peer, c:local_addr(), "the real peer is our socket")
        end
      end
    end,
  },

  case {
    id = "DET-005", title = "Valid v2 header + CONNECT: CONNACK, and the broker uses the carried source",
    level = "MUST", refs = { "R-GEN-07", "R-DET-02", "R-V2-09", "R-GEN-03", "R-V2-37" }, requires = { "listener.pp" },
    run = function(t)
      local c = t:connect "pp"
      local cid = C.connect_ok(t, c, proxy.v2 { src = "203.0.113.8:40001", dst = "198.51.100.1:1883" })
      if t:has("oracle.sessions") then
        local s = C.session(t, cid)
        t:require(s ~= nil, "the oracle lists the session")
        t:check_eq(s.attributed_peer, "203.0.113.8:40001", "the session is attributed to the carried source", { ref = "R-GEN-03" })
      end
    end,
  },

  case {
    id = "DET-006", title = "v2 LOCAL + CONNECT: CONNACK, and the broker keeps the real peer",
    level = "MUST", refs = { "R-V2-07", "R-V2-23" }, requires = { "listener.pp" },
    run = function(t)
      local c = t:connect("pp", { source = "127.0.0.3" })
      local cid = C.connect_ok(t, c, proxy.v2 { command = "LOCAL" })
      if t:has("oracle.sessions") then
        local s = C.session(t, cid)
        t:require(s ~= nil, "the oracle lists the session")
        t:check_eq(s.attributed_peer, c:local_addr(), "LOCAL falls back to the real peer", { ref = "R-V2-07" })
      end
    end,
  },

  case {
    id = "DET-007", title = "v2 LOCAL with a forged address block: the addresses are ignored",
    level = "MUST", severity = "critical", refs = { "R-V2-07", "R-V2-28" }, requires = { "listener.pp" },
    description = "EC-S-11 / EC-V2-08: LOCAL 0x20 with family 0x11 and a 12-byte block that names 203.0.113.7.",
    run = function(t)
      local c = t:connect("pp", { source = "127.0.0.4" })
      local cid = C.connect_ok(t, c, proxy.v2 { command = "LOCAL", family = "TCP4", src = "203.0.113.7:4000", dst = "198.51.100.1:1883" })
      if t:has("oracle.sessions") then
        local s = C.session(t, cid)
        t:require(s ~= nil, "the oracle lists the session")
        t:check_eq(s.attributed_peer, c:local_addr(), "the forged LOCAL addresses are not used")
      end
    end,
  },

  case {
    id = "DET-008", title = "v1 UNKNOWN + CONNECT: accepted with the real peer",
    level = "SHOULD", refs = { "R-V1-08", "R-V1-06" }, requires = { "listener.pp" },
    run = function(t)
      local c = t:connect "pp"
      local cid = C.connect_ok(t, c, "PROXY UNKNOWN\r\n")
      if t:has("oracle.sessions") then
        local s = C.session(t, cid)
        if s then t:check_eq(s.attributed_peer, c:local_addr(), "UNKNOWN keeps the real peer") end
      end
    end,
  },

  case {
    id = "DET-009", title = "After rejecting a header-less client the listener still serves valid ones",
    level = "MUST", refs = { "R-GEN-14", "R-GEN-13" }, requires = { "listener.pp" }, timeout = "10s",
    run = function(t)
      local bad = t:connect "pp"
      bad:send(mqtt.connect { version = 4, client_id = t:unique "bad" })
      local good = t:connect "pp"
      C.connect_ok(t, good, proxy.v2 { src = "192.0.2.44:1234", dst = "192.0.2.1:1883" })
      C.closed_silently(t, bad)
    end,
  },

  case {
    id = "DET-010", title = "A PROXY header on a listener without PROXY is not interpreted",
    level = "MUST", severity = "critical", refs = { "R-GEN-14", "R-SEC-01" }, requires = { "listener.plain" },
    description = [[EC-S-06: the plain listener's MQTT parser sees 'P' (0x50, PUBREC) or 0x0D
      (reserved type 0) first, so it must close without a CONNACK.]],
    run = function(t)
      for _, hdr in ipairs { proxy.v1 { src = "203.0.113.9:1", dst = "192.0.2.1:2" }, proxy.v2 { src = "203.0.113.9:1", dst = "192.0.2.1:2" } } do
        local c = t:connect "plain"
        local cid = t:unique "hdr-on-plain"
        c:send { hdr, mqtt.connect { version = 4, client_id = cid } }
        C.closed_silently(t, c, "the plain listener does not accept a PROXY header")
        C.no_session(t, cid, "R-SEC-01")
      end
    end,
  },

  case {
    id = "DET-011", title = "The session records the connection's chosen source address (127.0.0.5)",
    level = "INFO", refs = { "R-GEN-03" }, requires = { "listener.pp", "oracle.events" },
    run = function(t)
      local c = t:connect("pp", { source = "127.0.0.5" })
      C.connect_ok(t, c, proxy.v2 { src = "198.18.0.1:5", dst = "192.0.2.1:1883" })
      local e = t.oracle:wait_event(c, "proxy_header", t:ms("2s"))
      t:require(e ~= nil, "the target logged a proxy_header event for our real peer")
      t:check_eq(e.attributed_peer, "198.18.0.1:5", "the event names the carried source")
    end,
  },
}
