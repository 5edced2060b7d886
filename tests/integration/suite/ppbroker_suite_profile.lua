-- Target profile for the suite's own tests: ppbroker with every listener the suite can use.
-- It is lua/targets/ppbroker.lua plus the listeners that profile does not (yet) configure:
--   cn       PROXY + proxy_protocol_use_cn_as_username = on, cn_policy = require
--   cnfb     PROXY + proxy_protocol_use_cn_as_username = on, cn_policy = fallback
--   trusted  PROXY + proxy_protocol_trusted_proxies = 127.0.0.254/32 (our 127.0.0.1 is outside)
--   crc      PROXY + proxy_protocol_require_crc32c = on
-- Cases that need them declare requires = {"listener.cn"} etc. and SKIP on the default profile.
-- Use: ppconform run --profile tests/integration/suite/ppbroker_suite_profile.lua
local P = { name = "ppbroker" }

local LISTENERS = {
  -- name       proxy  versions  extra keys
  { "pp",      true,  "1,2", {} },
  { "pp1",     true,  "1",   {} },
  { "pp2",     true,  "2",   {} },
  { "plain",   false, nil,   {} },
  { "cn",      true,  "1,2", { proxy_protocol_use_cn_as_username = "on", proxy_protocol_cn_policy = "require" } },
  { "cnfb",    true,  "1,2", { proxy_protocol_use_cn_as_username = "on", proxy_protocol_cn_policy = "fallback" } },
  { "trusted", true,  "1,2", { proxy_protocol_trusted_proxies = "127.0.0.254/32" } },
  { "crc",     true,  "2",   { proxy_protocol_require_crc32c = "on" } },
}

function P.config(opts)
  local lines = {
    "# written by ppconform (suite profile) for one run",
    "allow_anonymous = on",
    "log.console.level = " .. (opts.log_level or "info"),
    "log.format = json",
    "admin.listener = 127.0.0.1:0",
  }
  for _, l in ipairs(LISTENERS) do
    local name, proxy, versions, extra = l[1], l[2], l[3], l[4]
    lines[#lines + 1] = ("listener.tcp.%s = 127.0.0.1:0"):format(name)
    if proxy then
      lines[#lines + 1] = ("listener.tcp.%s.proxy_protocol = on"):format(name)
      lines[#lines + 1] = ("listener.tcp.%s.proxy_protocol_versions = %s"):format(name, versions)
      lines[#lines + 1] = ("listener.tcp.%s.proxy_protocol_timeout = %s"):format(name, opts.header_timeout or "3s")
      local keys = {}
      for k in pairs(extra) do keys[#keys + 1] = k end
      table.sort(keys)
      for _, k in ipairs(keys) do lines[#lines + 1] = ("listener.tcp.%s.%s = %s"):format(name, k, extra[k]) end
    end
  end
  return table.concat(lines, "\n") .. "\n"
end

function P.start(h)
  local host, core, json, opts = h.host, h.core, h.json, h.opts
  local bin = opts.broker or host.program_path("ppbroker")
  if not bin or not host.is_executable(bin) then
    error("ppbroker not found (looked next to ppconform: " .. tostring(bin) .. "); build it or pass --broker PATH", 0)
  end
  local dir = host.tmpdir("ppconform-ppbroker")
  local conf, ready, log = dir .. "/ppbroker.conf", dir .. "/ready.json", dir .. "/ppbroker.log"
  host.write_file(conf, P.config(opts))
  local argv = { bin, "-c", conf, "--ready-file", ready }
  for _, q in ipairs(opts.quirks or {}) do argv[#argv + 1] = "--quirk"; argv[#argv + 1] = q end
  local proc = host.spawn(argv, { stdout = log, stderr = log })
  local deadline = core.now() + math.floor(10000 * (opts.scale or 1))
  local info
  while true do
    local text = host.read_file(ready)
    if text and text:find("}%s*$") then
      local ok, v = pcall(json.decode, text)
      if ok and type(v) == "table" then info = v; break end
    end
    local alive, how = proc:alive()
    if not alive then
      local tail = host.read_file(log) or ""
      error(("ppbroker exited before it was ready (%s)%s"):format(how, tail ~= "" and (":\n" .. tail:sub(-2000)) or ""), 0)
    end
    if core.now() >= deadline then
      proc:stop(2000)
      error("ppbroker did not write its ready file within 10 s (" .. ready .. ")", 0)
    end
    core.sleep_until(math.min(deadline, core.now() + 10))
  end
  local listeners, caps = {}, {
    ["oracle.sessions"] = true, ["oracle.events"] = true, ["oracle.rejections"] = true,
    ["proxy.v1"] = true, ["proxy.v2"] = true, ["proxy.tlvs"] = true, ["proxy.crc32c"] = true,
    ["proxy.header_timeout"] = opts.header_timeout or "3s",
    ["trusted.source"] = "127.0.0.254",
  }
  for name, l in pairs(info.listeners or {}) do
    listeners[name] = { address = l.address, proxy = l.proxy_protocol, kind = l.kind }
    caps["listener." .. name] = true
  end
  for _, q in ipairs(opts.quirks or {}) do caps["quirk." .. q] = true end
  return {
    name = "ppbroker", version = info.version, pid = info.pid or proc.pid, proc = proc, dir = dir,
    log = log, listeners = listeners, capabilities = caps,
    oracle = h.oracle.ppbroker_admin(info.admin, opts.scale),
    header_timeout_ms = 3000, keep = opts.keep,
  }
end

function P.alive(state) return state.proc:alive() end

function P.stop(state, host)
  local how, crashed = state.proc:stop(5000)
  if not state.keep and not crashed then host.rmtree(state.dir) end
  return how, crashed
end

return P
