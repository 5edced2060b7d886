-- Target profile: the embedded reference broker, ppbroker.
-- The runner writes a config with the listeners the suite needs (all on port 0), starts
-- ppbroker as a child with --ready-file, polls for that file with a deadline (never a
-- sleep), reads the bound addresses from it, and stops the child by PID at the end.
-- When a ppbroker build refuses the extended listeners (TLS, CN, trusted proxies), the
-- profile starts it again with the basic ones and the missing capabilities skip cases.
local P = { name = "ppbroker" }

local util = require "targets.util"

-- The deliberate defects ppbroker can switch on (--quirk), in the contract's order;
-- `ppconform mutate` runs the suite once per quirk and expects each to be caught.
P.quirks = {
  "accept-missing-header", "accept-header-on-plain-listener", "ignore-crc32c", "trust-unverified-cn",
  "cn-nul-truncate", "lenient-v1-grammar", "no-header-timeout", "decode-before-complete",
  "wrong-address-on-split", "close-on-local", "accept-unknown-command", "last-duplicate-tlv-wins",
}

-- name, kind, extra keys (without the listener prefix)
local BASIC = {
  { "pp", "tcp", { proxy_protocol = "on", proxy_protocol_versions = "1,2" } },
  { "pp1", "tcp", { proxy_protocol = "on", proxy_protocol_versions = "1" } },
  { "pp2", "tcp", { proxy_protocol = "on", proxy_protocol_versions = "2" } },
  { "plain", "tcp", {} },
}
-- names shared with the suite (scenarios/*.lua): cn, cnfb, trusted, crc, tls, pp_tls
local TRUSTED_SOURCE = "127.0.0.254" -- our default source 127.0.0.1 is outside the list
local EXTENDED = {
  { "cn", "tcp", { proxy_protocol = "on", proxy_protocol_use_cn_as_username = "on",
                   proxy_protocol_cn_policy = "require" } },
  { "cnfb", "tcp", { proxy_protocol = "on", proxy_protocol_use_cn_as_username = "on",
                     proxy_protocol_cn_policy = "fallback" } },
  { "trusted", "tcp", { proxy_protocol = "on", proxy_protocol_trusted_proxies = TRUSTED_SOURCE .. "/32" } },
  { "tls", "ssl", { require_certificate = "on", use_identity_as_username = "on", tls = true } },
  { "pp_tls", "ssl", { proxy_protocol = "on", require_certificate = "on", tls = true } },
}
local CRC = { { "crc", "tcp", { proxy_protocol = "on", proxy_protocol_versions = "2",
                                proxy_protocol_require_crc32c = "on" } } }

function P.config(opts, listeners, pki)
  local lines = {
    "# written by ppconform for one run",
    "allow_anonymous = on",
    "log.console.level = " .. (opts.log_level or "info"),
    "log.format = json",
    "admin.listener = 127.0.0.1:0",
  }
  for _, l in ipairs(listeners) do
    local name, kind, keys = l[1], l[2], l[3]
    local prefix = ("listener.%s.%s"):format(kind, name)
    lines[#lines + 1] = prefix .. " = 127.0.0.1:0"
    local names = {}
    for k in pairs(keys) do names[#names + 1] = k end
    table.sort(names)
    for _, k in ipairs(names) do
      if k == "tls" then
        lines[#lines + 1] = prefix .. ".certfile = " .. pki .. "/server.pem"
        lines[#lines + 1] = prefix .. ".keyfile = " .. pki .. "/server.key"
        lines[#lines + 1] = prefix .. ".cafile = " .. pki .. "/ca.pem"
      else
        lines[#lines + 1] = ("%s.%s = %s"):format(prefix, k, keys[k])
      end
    end
    if keys.proxy_protocol then
      lines[#lines + 1] = prefix .. ".proxy_protocol_timeout = " .. (opts.header_timeout or "3s")
    end
  end
  return table.concat(lines, "\n") .. "\n"
end

-- Start once with a listener set; returns info (the ready file) or nil, why.
local function try_start(h, dir, listeners, tag)
  local host, json, opts = h.host, h.json, h.opts
  local conf, ready, log = dir .. "/ppbroker-" .. tag .. ".conf", dir .. "/ready-" .. tag .. ".json", dir .. "/ppbroker.log"
  host.write_file(conf, P.config(opts, listeners, dir))
  local argv = { h.bin, "-c", conf, "--ready-file", ready }
  for _, q in ipairs(opts.quirks or {}) do argv[#argv + 1] = "--quirk"; argv[#argv + 1] = q end
  local proc = host.spawn(argv, { stdout = log, stderr = log })
  local ok, info = pcall(util.wait_ready_file, h, proc, ready, 10000, function(text)
    if not text:find("}%s*$") then return nil end
    local decoded, v = pcall(json.decode, text)
    return decoded and type(v) == "table" and v or nil
  end, "ppbroker", log)
  if not ok then return nil, info end
  return info, proc
end

-- start(h) where h = {host=, core=, json=, oracle=, opts=} -> state
function P.start(h)
  local host, opts = h.host, h.opts
  h.bin = opts.broker or host.program_path("ppbroker")
  if not h.bin or not host.is_executable(h.bin) then
    error("ppbroker not found (looked next to ppconform: " .. tostring(h.bin) .. "); build it or pass --broker PATH", 0)
  end
  local dir = host.tmpdir("ppconform-ppbroker")
  host.make_pki(dir, { ca = "ppconform test CA", leaves = {
    { name = "server", cn = "localhost", server = true },
    { name = "client", cn = "alice" },
    { name = "client2", cn = "bob" },
  } })
  local function join(...)
    local out = {}
    for _, set in ipairs { ... } do for _, l in ipairs(set) do out[#out + 1] = l end end
    return out
  end
  -- the widest listener set this ppbroker build accepts
  local notes = {}
  local info, proc
  for _, tier in ipairs { { "full", join(BASIC, EXTENDED, CRC) }, { "nocrc", join(BASIC, EXTENDED) },
                          { "basic", BASIC } } do
    info, proc = try_start(h, dir, tier[2], tier[1])
    if info then break end
    notes[#notes + 1] = ("listener set %q refused: %s"):format(tier[1], tostring(proc):sub(1, 300))
    if tier[1] == "basic" then error(proc, 0) end
  end
  local listeners, caps = {}, {
    ["oracle.sessions"] = true, ["oracle.real_peer"] = true, ["oracle.events"] = true, ["oracle.rejections"] = true,
    ["proxy.v1"] = true, ["proxy.v2"] = true, ["proxy.tlvs"] = true, ["proxy.crc32c"] = true,
    ["proxy.header_timeout"] = opts.header_timeout or "3s",
  }
  for name, l in pairs(info.listeners or {}) do
    listeners[name] = { address = l.address, proxy = l.proxy_protocol, kind = l.kind }
    caps["listener." .. name] = true
  end
  if listeners.cn then caps["feature.cn_as_username"] = true end
  if listeners.trusted then caps["feature.trusted_proxies"] = true end
  if listeners.crc then caps["feature.require_crc32c"] = true end
  if listeners.tls then caps["feature.tls"] = true; caps["feature.client_certificates"] = true end
  for _, q in ipairs(opts.quirks or {}) do caps["quirk." .. q] = true end
  return {
    name = "ppbroker", version = info.version, pid = info.pid or proc.pid, proc = proc, dir = dir,
    log = dir .. "/ppbroker.log", listeners = listeners, capabilities = caps, notes = notes,
    oracle = h.oracle.ppbroker_admin(info.admin, opts.scale),
    -- files for TLS cases: tls.client{cert = t.target.pki.client_cert, ...}
    pki = { ca = dir .. "/ca.pem", client_cert = dir .. "/client.pem", client_key = dir .. "/client.key",
            client2_cert = dir .. "/client2.pem", client2_key = dir .. "/client2.key",
            client_cn = "alice", client2_cn = "bob" },
    trusted_source = TRUSTED_SOURCE,
    header_timeout_ms = 3000, keep = opts.keep,
  }
end

-- alive(state) -> true | false, "signal 11 (crash)"
function P.alive(state)
  return state.proc:alive()
end

function P.stop(state, host)
  local how, crashed = state.proc:stop(5000)
  if not state.keep and not crashed then host.rmtree(state.dir) end
  return how, crashed
end

return P
