-- Target profile: HAProxy 2.6 (Debian 12) terminating PROXY with `accept-proxy`, in front of
-- Mosquitto 2.0.11 (which has no PROXY support). The PROXY receiver under test is HAProxy;
-- Mosquitto only answers the MQTT behind it. Listeners: "pp" (HAProxy accept-proxy, v1 and
-- v2 auto-detected) and "plain" (Mosquitto directly). HAProxy's header deadline is its
-- `timeout client` (2.6 has no separate handshake timeout), declared as proxy.header_timeout;
-- that same timeout also ends idle sessions, which the timeout cases report.
-- No oracle (2.6 logs the carried source but not the MQTT client id): cases needing one skip.
-- Both processes run in the foreground as children, on free ports of 127.0.0.1, are polled
-- for readiness with deadlines and are stopped by PID; their temp dir is removed.
local P = { name = "haproxy-mosquitto" }

local HAPROXY, MOSQUITTO = "/usr/sbin/haproxy", "/usr/sbin/mosquitto"
local HEADER_TIMEOUT = "5s"

-- A port in 20000..32767 (below Linux's ephemeral range) that nothing answers on now.
local function free_port(core)
  for _ = 1, 50 do
    local port = math.random(20000, 32767)
    local s, inprog = core.connect("127.0.0.1:" .. port, nil, true)
    if not s then return port end
    if inprog then s:wait("w", core.now() + 200) end
    local ok = s:finish_connect()
    s:close()
    if not ok then return port end
  end
  error("no free port found on 127.0.0.1", 0)
end

-- Poll until addr accepts a connection, the process dies, or the deadline passes.
local function wait_listening(h, proc, addr, ms, log)
  local core = h.core
  local deadline = core.now() + math.floor(ms * (h.opts.scale or 1))
  while true do
    local s, inprog = core.connect(addr, nil, true)
    if s then
      if inprog then s:wait("w", math.min(deadline, core.now() + 500)) end
      local ok = s:finish_connect()
      s:close()
      if ok then return true end
    end
    local alive, how = proc:alive()
    if not alive then
      local tail = (log and h.host.read_file(log)) or ""
      error(("%s exited before listening on %s (%s)%s"):format(P.name, addr, how, tail ~= "" and (":\n" .. tail:sub(-1500)) or ""), 0)
    end
    if core.now() >= deadline then
      proc:stop(2000)
      error(("%s did not listen on %s within %d ms"):format(P.name, addr, ms), 0)
    end
    core.sleep_until(math.min(deadline, core.now() + 20))
  end
end

local function start_mosquitto(h, dir)
  local port = free_port(h.core)
  local conf, log = dir .. "/mosquitto.conf", dir .. "/mosquitto.log"
  h.host.write_file(conf, table.concat({
    "per_listener_settings false", "allow_anonymous true", "persistence false",
    "log_dest stderr", "log_type all", "connection_messages true",
    "listener " .. port .. " 127.0.0.1",
  }, "\n") .. "\n")
  local proc = h.host.spawn({ MOSQUITTO, "-c", conf }, { stdout = log, stderr = log })
  local addr = "127.0.0.1:" .. port
  wait_listening(h, proc, addr, 10000, log)
  return proc, addr
end

function P.start(h)
  local host = h.host
  for _, bin in ipairs { HAPROXY, MOSQUITTO } do
    if not host.is_executable(bin) then error(bin .. " not found: install the Debian packages haproxy and mosquitto", 0) end
  end
  local dir = host.tmpdir("ppconform-haproxy-mosquitto")
  local mosq, mosq_addr = start_mosquitto(h, dir)
  local port = free_port(h.core)
  local addr = "127.0.0.1:" .. port
  local conf, log = dir .. "/haproxy.cfg", dir .. "/haproxy.log"
  host.write_file(conf, table.concat({
    "# written by ppconform for one run",
    "global",
    "    log stdout format raw local0",
    "    maxconn 2048",
    "defaults",
    "    mode tcp",
    "    log global",
    "    timeout connect 2s",
    "    timeout client " .. HEADER_TIMEOUT,
    "    timeout server 60s",
    "frontend fe_pp",
    "    bind " .. addr .. " accept-proxy",
    "    log-format \"RECV client=%ci:%cp dst=%fi:%fp bytes_in=%U term=%ts\"",
    "    default_backend be_mosquitto",
    "backend be_mosquitto",
    "    server mosquitto " .. mosq_addr,
  }, "\n") .. "\n")
  -- -db: foreground, one process, so the PID we spawned is the one to stop
  local proc = host.spawn({ HAPROXY, "-db", "-f", conf }, { stdout = log, stderr = log })
  local ok, err = pcall(wait_listening, h, proc, addr, 10000, log)
  if not ok then mosq:stop(3000); error(err, 0) end
  return {
    name = "haproxy-mosquitto", version = "haproxy 2.6 + mosquitto 2.0", proc = proc, mosquitto = mosq,
    pid = proc.pid, dir = dir, log = log, keep = h.opts.keep,
    listeners = { pp = { address = addr, proxy = true }, plain = { address = mosq_addr, proxy = false } },
    capabilities = {
      ["listener.pp"] = true, ["listener.plain"] = true,
      ["proxy.v1"] = true, ["proxy.v2"] = true, ["proxy.tlvs"] = true, ["proxy.crc32c"] = true,
      ["proxy.header_timeout"] = HEADER_TIMEOUT,
    },
  }
end

-- Either process gone is the target gone.
function P.alive(state)
  local ok, how, crashed = state.proc:alive()
  if not ok then return false, "haproxy: " .. tostring(how), crashed end
  ok, how, crashed = state.mosquitto:alive()
  if not ok then return false, "mosquitto: " .. tostring(how), crashed end
  return true
end

function P.stop(state, host)
  local how, crashed = state.proc:stop(5000)
  local mhow, mcrashed = state.mosquitto:stop(5000)
  if not state.keep then host.rmtree(state.dir) end
  return ("haproxy %s, mosquitto %s"):format(how, mhow), crashed or mcrashed
end

return P
