-- Replay: real captures (pcaps/, see pcaps/README.md) of mosquitto_pub/mosquitto_sub behind
-- HAProxy and nginx, replayed from the client side with the recorded PROXY header, a
-- rewritten one and a broken one (issue 7, item 6). The captures' directory is
-- `--set pcaps=DIR` (default "pcaps", found from the working directory or the source tree).
local C = require "lib.common"

-- One entry per committed broker-side capture; the client-side TLS capture has no PROXY header.
local CAPTURES = {
  { id = "HAPROXY-V1", file = "haproxy-send-proxy-v1", version = 1, sender = "HAProxy send-proxy" },
  { id = "HAPROXY-V2", file = "haproxy-send-proxy-v2", version = 2, sender = "HAProxy send-proxy-v2" },
  { id = "HAPROXY-V2-SSL-CN", file = "haproxy-send-proxy-v2-ssl-cn", version = 2, cn = true,
    sender = "HAProxy send-proxy-v2-ssl-cn" },
  { id = "NGINX-V1", file = "nginx-proxy-protocol-v1", version = 1, sender = "nginx proxy_protocol" },
}
local SESSIONS = {
  { id = "PUB", name = "pub", what = "mosquitto_pub (MQTT 3.1.1, QoS 1 retained publish)" },
  -- the subscriber's recorded PUBLISH is a retained message from another session: not awaited
  { id = "SUB", name = "sub", what = "mosquitto_sub (MQTT 5, subscribe)", ignore = { "PUBLISH" } },
}
local PP2_TLV_SSL, PP2_SUBTYPE_SSL_CN = 0x20, 0x22

-- The length of a PROXY header at the start of s (v1 line or v2 block), or 0.
local function header_len(s)
  if s:sub(1, 6) == "PROXY " then
    local e = s:find("\r\n", 1, true)
    return e and e + 1 or 0
  end
  if #s >= 16 and s:sub(1, 12) == proxy.SIGNATURE then return 16 + s:byte(15) * 256 + s:byte(16) end
  return 0
end

-- The capture's one flow (proxy -> broker); the broker's port differed per recording.
local function open_flow(t, cap)
  local path = t:opt("pcaps", "pcaps") .. "/" .. cap.path
  local flow = pcap.open(path):flow(1)
  t:require(flow ~= nil, "the capture holds a TCP flow: " .. cap.path)
  t:require_eq(flow.stats.gaps, 0, "the capture has no holes")
  return flow
end

-- The recorded PROXY header, checked to be the version the README states.
local function recorded_header(t, flow, cap)
  local hdr = flow.c2s:sub(1, header_len(flow.c2s))
  local h, err = proxy.parse(hdr)
  t:require(type(h) == "table", "the recorded header parses", { actual = tostring(err or h) })
  t:require_eq(h.version, cap.version, "the recorded header's version")
  return hdr, h
end

-- The recorded SSL TLV's value and the CN inside it (R-SSL-08).
local function recorded_ssl(t, h)
  for _, tlv in ipairs(h.tlvs or {}) do
    if tlv.type == PP2_TLV_SSL then
      local v, off, cn = tlv.value, 6, nil -- client (1) + verify (4), then sub-TLVs
      while off + 2 <= #v do
        local ty, len = v:byte(off), v:byte(off + 1) * 256 + v:byte(off + 2)
        if ty == PP2_SUBTYPE_SSL_CN then cn = v:sub(off + 3, off + 2 + len) end
        off = off + 3 + len
      end
      t:require(cn ~= nil, "the recorded SSL TLV carries a CN")
      return v, cn
    end
  end
  t:fail("the recorded header has no SSL TLV")
end

-- After a replayed session: the CONNACK event names the CN as the username (oracle only).
local function check_cn_username(t, c, cn)
  if not cn or not t:has("oracle.events") then return end
  local e = t.oracle:wait_event(c, "connack", t:ms("2s"))
  t:require(e ~= nil, "the target logged a connack event for the replayed connection")
  t:check_eq(e.username, cn, "the session's username is the recorded CN", { ref = "R-SSL-08" })
end

-- After the close: the close event says where the username came from (oracle only).
local function check_cn_source(t, c, cn)
  if not cn or not t:has("oracle.events") then return end
  local e = t.oracle:wait_event(c, "close", t:ms("2s"))
  t:require(e ~= nil, "the target logged a close event for the replayed connection")
  t:check_eq(e.username_source, "cn", "the username came from the CN", { ref = "R-SSL-08" })
end

-- The broker ends the session after the recorded DISCONNECT.
local function check_session_ended(t, c)
  c:expect_close { accept = { "fin", "rst" }, data = "allow", within = "3s",
                   what = "the broker closes after the replayed DISCONNECT" }
end

local cases = {}
local function add(c) cases[#cases + 1] = c end

for n, cap0 in ipairs(CAPTURES) do
  for _, sess in ipairs(SESSIONS) do
    local cap = setmetatable({ path = cap0.file .. "-" .. sess.name .. ".pcap" }, { __index = cap0 })
    local listener = cap.cn and "cn" or "pp"
    local version_ref = cap.version == 1 and "R-V1-28" or "R-V2-37"
    local cn_refs = cap.cn and { "R-SSL-08" } or {}
    local function refs(list)
      local out = {}
      for _, r in ipairs(list) do out[#out + 1] = r end
      for _, r in ipairs(cn_refs) do out[#out + 1] = r end
      return out
    end
    local base = "RPL-" .. cap.id .. "-" .. sess.id
    local about = ("%s from %s (%s)"):format(sess.what, cap.sender, cap.path)
    local where = cap.cn and " on the CN-as-username listener" or ""

    add(case {
      id = base .. "-RECORDED",
      title = ("%s replays behind its recorded v%d header%s"):format(cap.path, cap.version, where),
      level = "MUST", refs = refs { "R-GEN-01", version_ref }, requires = { "listener." .. listener },
      tags = { "replay" }, timeout = "15s",
      description = ("The client stream of %s, recorded PROXY header and all, is replayed to the %s "
        .. "listener: the broker's MQTT replies match the recording (CONNACK accepted, then PUBACK or "
        .. "SUBACK), which shows the header was consumed exactly and the next byte was MQTT.%s"):format(
        about, listener, cap.cn and " The recorded SSL TLV's CN becomes the username." or ""),
      run = function(t)
        local flow = open_flow(t, cap)
        local _, h = recorded_header(t, flow, cap)
        local cn = cap.cn and select(2, recorded_ssl(t, h)) or nil
        t:info("recorded header", h.description)
        local c, summary = t:replay(flow, { to = listener, header = nil, ignore = sess.ignore })
        t:check(summary.packets_compared >= 2, "the recorded replies were compared",
                { actual = tostring(summary.packets_compared) })
        check_cn_username(t, c, cn)
        check_session_ended(t, c)
        check_cn_source(t, c, cn)
      end,
    })

    add(case {
      id = base .. "-REWRITTEN",
      title = ("%s replays behind a rewritten v2 header; the session is attributed to the new source%s"):format(
        cap.path, where),
      level = "MUST", refs = refs { "R-GEN-01", "R-GEN-03", "R-V2-37" }, requires = { "listener." .. listener },
      tags = { "replay" }, timeout = "15s",
      description = ("The client stream of %s with its header replaced by a fresh v2 PROXY TCP4 header "
        .. "carrying 203.0.113.%d:%d%s: the replies match the recording, and the target attributes the "
        .. "connection to the rewritten source, not the recorded one."):format(about, 10 + n, 40000 + n,
        cap.cn and " (and the recorded SSL TLV, so the CN listener still has its CN)" or ""),
      run = function(t)
        local flow = open_flow(t, cap)
        local _, h = recorded_header(t, flow, cap)
        local src = ("203.0.113.%d:%d"):format(10 + n, 40000 + n)
        local tlvs, cn = {}, nil
        if cap.cn then
          local v
          v, cn = recorded_ssl(t, h)
          tlvs[1] = proxy.tlv(PP2_TLV_SSL, v)
        end
        local hdr = proxy.v2 { src = src, dst = "198.51.100.1:1883", tlvs = tlvs }
        local c, summary = t:replay(flow, { to = listener, header = hdr, ignore = sess.ignore })
        t:check(summary.packets_compared >= 2, "the recorded replies were compared",
                { actual = tostring(summary.packets_compared) })
        if t:has("oracle.events") then
          local e = t.oracle:wait_event(c, "proxy_header", t:ms("2s"))
          t:require(e ~= nil, "the target logged a proxy_header event for the replayed connection")
          t:check_eq(e.attributed_peer, src, "the connection is attributed to the rewritten source", { ref = "R-GEN-03" })
          t:check(e.attributed_peer ~= h.src, "not to the recorded source " .. tostring(h.src))
        end
        check_cn_username(t, c, cn)
        check_session_ended(t, c)
        check_cn_source(t, c, cn)
      end,
    })

    add(case {
      id = base .. "-BROKEN",
      title = ("%s behind its recorded header with a corrupted %s: no CONNACK, closed%s"):format(
        cap.path, cap.version == 1 and "\"PROXY\"" or "signature", where),
      level = "MUST", refs = refs { "R-DET-04", "R-GEN-01" }, requires = { "listener." .. listener },
      tags = { "replay", "security" }, timeout = "15s",
      description = ("The client stream of %s, its recorded header broken (%s), then the recorded MQTT "
        .. "session: the input is not a PROXY header, so the connection is dropped with no byte sent "
        .. "back, and no session exists for the replayed client id."):format(about,
        cap.version == 1 and "\"PROXY\" written \"PROXZ\"" or "signature byte 5, the NUL, made 0x20"),
      run = function(t)
        local flow = open_flow(t, cap)
        local hdr = recorded_header(t, flow, cap)
        local broken
        if cap.version == 1 then broken = "PROXZ" .. hdr:sub(6)
        else broken = hdr:sub(1, 4) .. "\x20" .. hdr:sub(6) end
        t:require(proxy.parse(broken) == nil, "the broken header does not parse")
        local suffix = "-" .. t:unique "broken"
        local c = t:replay(flow, { to = listener, header = broken, compare = false, client_id_suffix = suffix })
        C.closed_silently(t, c, "no CONNACK: the broken header is refused and the connection closed")
        local first = mqtt.split(flow.c2s:sub(#hdr + 1))[1]
        C.no_session(t, first.client_id .. suffix, "R-DET-04")
      end,
    })
  end
end

suite {
  id = "RPL", title = "Replay: real HAProxy and nginx captures replayed with recorded, rewritten and broken headers",
  tags = { "replay" },
  cases = cases,
}
