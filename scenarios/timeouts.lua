-- Timeouts (§2, R-GEN-12): a receiver that gives up on a missing header waits at least 3 s
-- (one TCP retransmission) and, when the target declares a header timeout (capability
-- proxy.header_timeout), closes by then: silent connections must not be held forever
-- (go-proxyproto CVE-2021-23409). These cases wait; they are few, and run in parallel.
-- Edge cases EC-F-09, -11, -12, EC-S-12, -13, EC-V2-25.
local S = require "lib.suite_util"
local C = require "lib.common"

local cases = {}
local function add(c) cases[#cases + 1] = c end

-- Durations that belong to the spec or to the target (3 s, its declared timeout) are real
-- time: the API scales every duration by --timeout-scale, so undo it for those. Slack stays scaled.
local function real_s(t, seconds) return seconds / t.scale end
local function declared_s(t) return t:ms(t.target.capabilities["proxy.header_timeout"]) / t.scale / 1000 end

-- Nothing for 2.5 s (an earlier close is a WARN: R-GEN-12 asks for >= 3 s), then a silent
-- close before the declared timeout + 2 s (PROFILE).
local function silent_then_closed(t, c)
  local how = c:expect_one_of({ { "silence" }, { "close", data = "forbid" } },
                              { within = real_s(t, 2.5), what = "nothing sent back, no close before 2.5 s" })
  if how ~= "silence" then
    t:check(false, "the header timeout is at least 3 s", { level = "SHOULD", ref = "R-GEN-12", expected = "open for 2.5 s", actual = "closed earlier" })
    return
  end
  local declared = t.target.capabilities["proxy.header_timeout"]
  c:expect_close { data = "forbid", within = real_s(t, declared_s(t) - 2.5) + 2,
                   what = "closed by the declared header timeout (" .. tostring(declared) .. ") and not later", level = "PROFILE" }
  S.note_rejection(t, c)
end

local SILENT = {
  { "01", "Connect and send nothing", "", { "EC-F-11" }, { "R-GEN-02", "R-GEN-11", "R-GEN-12" } },
  { "02", "A truncated signature (0D 0A 0D 0A 00), then silence", S.SIG:sub(1, 5), { "EC-F-09" }, { "R-GEN-11", "R-GEN-12", "R-V2-34" } },
  { "03", "14 bytes of a valid v2 start, then silence", S.v2raw(0x21, 0x11, S.BLOCK4):sub(1, 14), { "EC-V2-25" }, { "R-DET-02", "R-GEN-11", "R-V2-34" } },
  { "04", "A v1 line without its end, then silence", "PROXY TCP4 203.0.113.7 198.51.100.1 40000", { "EC-F-07" }, { "R-V1-22", "R-GEN-11", "R-V2-34" } },
}
for _, s in ipairs(SILENT) do
  add(case {
    id = "TMO-" .. s[1], title = s[2] .. ": no answer, closed by the header timeout", level = "MUST",
    refs = s[5], tags = s[4], requires = { "listener.pp", "proxy.header_timeout" }, timeout = "20s",
    description = "No byte is ever sent back (no banner, no CONNACK); not closed before 2.5 s; closed by the declared timeout + 2 s.",
    run = function(t)
      local c = t:connect("pp")
      if #s[3] > 0 then c:send(s[3]) end
      silent_then_closed(t, c)
      S.still_serving(t, "pp")
    end,
  })
end

add(case {
  id = "TMO-05", title = "A valid header 2.5 s after connect is accepted", level = "SHOULD",
  refs = { "R-GEN-12" }, tags = { "EC-F-12" }, requires = { "listener.pp" }, timeout = "15s",
  description = "Connect, wait 2.5 s, then a v2 header and CONNECT: CONNACK 0 (a timeout, if any, is at least 3 s).",
  run = function(t)
    local c = t:connect("pp")
    t:sleep(real_s(t, 2.5))
    C.connect_ok(t, c, proxy.v2 { src = S.SRC4, dst = S.DST4 })
    c:close()
  end,
})
add(case {
  id = "TMO-06", title = "Slowloris: a len 65535 header dripped 1 byte every 250 ms is closed by the timeout, not held",
  level = "MUST", refs = { "R-GEN-12", "R-GEN-11" }, tags = { "EC-S-12", "A-02" }, requires = { "listener.pp", "proxy.header_timeout" },
  timeout = "20s",
  description = "One byte of a 65551-byte header every 250 ms: nothing sent back, and a close by the declared header timeout + 2 s.",
  run = function(t)
    local c = t:connect("pp")
    local hdr = S.v2raw(0x21, 0x11, S.BLOCK4 .. S.tlv(0x04, ("\0"):rep(65535 - 15)))
    local declared = math.floor(declared_s(t) * 1000)
    local deadline = t:now() + declared + t:ms("2s")
    local i, closed = 0, false
    while t:now() < deadline do
      i = i + 1
      if not c:send(hdr:sub(i, i), { within = "1s" }) then closed = true; break end
      local how = c:expect_one_of({ { "silence" }, { "close", data = "forbid" } }, { within = "250ms", what = "no answer while dripping" })
      if how == "close" then closed = true; break end
    end
    t:check(closed, "the receiver closed the dripping connection by its timeout", { level = "PROFILE", ref = "R-GEN-12",
            expected = "a close within " .. declared .. " ms + 2 s", actual = closed and "closed" or ("open after %d bytes"):format(i) })
    S.still_serving(t, "pp")
  end,
})
add(case {
  id = "TMO-07", title = "200 parallel connections that send no header are all reclaimed by the timeout",
  level = "MUST", refs = { "R-GEN-12" }, tags = { "EC-S-13" }, requires = { "listener.pp", "proxy.header_timeout" }, timeout = "25s",
  description = "200 connections that send nothing: every one closed, silently, by the declared timeout + 3 s; the listener still serves.",
  run = function(t)
    local conns = {}
    for i = 1, 200 do conns[i] = t:connect("pp") end
    local declared = math.floor(declared_s(t) * 1000)
    local deadline = t:now() + declared + t:ms("3s")
    local open = 0
    for _, c in ipairs(conns) do
      local left = math.max(1, deadline - t:now())
      local r = c:observe { within = left / 1000 / t.scale }
      if r["end"] ~= "fin" and r["end"] ~= "rst" then open = open + 1 end
      t:check(#r.bytes == 0, "nothing sent back on a silent connection")
      c:close()
    end
    t:check_eq(open, 0, "silent connections still open after the declared timeout + 3 s", { level = "PROFILE", ref = "R-GEN-12" })
    S.still_serving(t, "pp")
  end,
})
add(case {
  id = "TMO-08", title = "A served session outlives the header timeout (the header deadline is cleared)",
  level = "MUST", refs = { "R-GEN-12", "R-GEN-11" }, requires = { "listener.pp", "proxy.header_timeout" }, timeout = "20s",
  description = "go-proxyproto GHSA-xcf7-q56x-78gh: the read deadline was never cleared, so every session died after the header timeout.",
  run = function(t)
    local c = t:connect("pp")
    C.connect_ok(t, c, proxy.v2 { src = S.SRC4, dst = S.DST4 })
    t:sleep(real_s(t, declared_s(t) + 0.5))
    c:send(mqtt.pingreq {})
    c:expect_packet("PINGRESP", { within = "2s", what = "the session still answers after the header timeout" })
    c:close()
  end,
})

suite { id = "TMO", title = "Timeouts: at least 3 s, and bounded (§2)", tags = { "timeout" }, cases = cases }
