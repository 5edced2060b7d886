-- Shared pieces of the third-party target profiles (mosquitto, haproxy-mosquitto,
-- nginx-mosquitto, aedes, rabbitmq): finding a free loopback port, polling a child until it
-- listens, starting a plain Mosquitto, and alive/stop for profiles made of child processes.
-- A profile gets it with `local util = require "targets.util"` (embedded in ppconform).
local U = {}

local MOSQUITTO = "/usr/sbin/mosquitto"
U.MOSQUITTO = MOSQUITTO

-- Fail with "<bin> not found: <hint>" for the first of bins that cannot be run.
function U.need_executables(host, bins, hint)
  for _, bin in ipairs(bins) do
    if not host.is_executable(bin) then error(bin .. " not found: " .. hint, 0) end
  end
end

-- A port in 20000..32767 (below Linux's ephemeral range) that nothing answers on now and
-- that this process has not handed out before: a profile takes several before starting
-- anything (RabbitMQ: MQTT, AMQP, distribution, epmd, management), and two equal picks made
-- one listener fail while readiness, checked on the other, passed.
local given = {}
function U.free_port(core)
  for _ = 1, 50 do
    local port = math.random(20000, 32767)
    if not given[port] then
      local s, inprog = core.connect("127.0.0.1:" .. port, nil, true)
      local free = not s
      if s then
        if inprog then s:wait("w", core.now() + 200) end
        free = not s:finish_connect()
        s:close()
      end
      if free then
        given[port] = true
        return port
      end
    end
  end
  error("no free port found on 127.0.0.1", 0)
end

-- Poll until addr accepts a connection, the process dies, or the deadline (ms, times
-- --timeout-scale) passes; then stop it and fail. name heads the error, log's tail ends it.
function U.wait_listening(h, proc, addr, ms, log, name)
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
      error(("%s exited before listening on %s (%s)%s"):format(name, addr, how, tail ~= "" and (":\n" .. tail:sub(-1500)) or ""), 0)
    end
    if core.now() >= deadline then
      proc:stop(2000)
      error(("%s did not listen on %s within %d ms"):format(name, addr, ms), 0)
    end
    core.sleep_until(math.min(deadline, core.now() + 20))
  end
end

-- Poll until the ready file at path holds what parse(text) accepts (it returns a value, or
-- nil while the file is incomplete), the process dies, or the deadline (ms, times
-- --timeout-scale) passes; then stop it and fail. Returns parse's value. name heads the
-- error, log's tail ends it.
function U.wait_ready_file(h, proc, path, ms, parse, name, log)
  local core = h.core
  local deadline = core.now() + math.floor(ms * (h.opts.scale or 1))
  while true do
    local text = h.host.read_file(path)
    local v = text and parse(text)
    if v ~= nil then return v end
    local alive, how = proc:alive()
    if not alive then
      local tail = (log and h.host.read_file(log)) or ""
      error(("%s exited before it was ready (%s)%s"):format(name, how, tail ~= "" and (":\n" .. tail:sub(-1500)) or ""), 0)
    end
    if core.now() >= deadline then
      proc:stop(2000)
      error(("%s did not write its ready file within %d ms (%s)"):format(name, ms, path), 0)
    end
    core.sleep_until(math.min(deadline, core.now() + 10))
  end
end

-- Mosquitto 2.0 (no PROXY support) on a free port of 127.0.0.1, anonymous, logging all
-- connections into dir/mosquitto.log -> proc, address, log. name heads a start error.
-- log_dest stderr: stdout is block-buffered into a file; no pid_file: it is written after
-- dropping privileges and fails (interop.md §4); the PID is the one we spawned.
function U.start_mosquitto(h, dir, name)
  local port = U.free_port(h.core)
  local conf, log = dir .. "/mosquitto.conf", dir .. "/mosquitto.log"
  h.host.write_file(conf, table.concat({
    "# written by ppconform for one run",
    "per_listener_settings false",
    "allow_anonymous true",
    "persistence false",
    "log_dest stderr",
    "log_type all",
    "connection_messages true",
    "listener " .. port .. " 127.0.0.1",
  }, "\n") .. "\n")
  local proc = h.host.spawn({ MOSQUITTO, "-c", conf }, { stdout = log, stderr = log })
  local addr = "127.0.0.1:" .. port
  U.wait_listening(h, proc, addr, 10000, log, name)
  return proc, addr, log
end

-- P.alive and P.stop for a target whose state holds its child processes in the fields
-- named by parts ({ {field = "proc", label = "haproxy"}, ... }, in stop order), its temp
-- dir in state.dir and --keep in state.keep. Any child gone is the target gone; each is
-- stopped by PID (SIGTERM, SIGKILL after 5 s), then the dir is removed unless kept. A lone
-- unlabelled part reports its status as is.
function U.child_processes(P, parts)
  function P.alive(state)
    for _, part in ipairs(parts) do
      local ok, how, crashed = state[part.field]:alive()
      if not ok then
        if part.label then return false, part.label .. ": " .. tostring(how), crashed end
        return ok, how, crashed
      end
    end
    return true
  end

  function P.stop(state, host)
    local hows, crashed_any = {}, false
    for i, part in ipairs(parts) do
      local how, crashed = state[part.field]:stop(5000)
      hows[i] = part.label and (part.label .. " " .. tostring(how)) or how
      crashed_any = crashed_any or crashed
    end
    if not state.keep then host.rmtree(state.dir) end
    return (#hows == 1 and hows[1] or table.concat(hows, ", ")), crashed_any
  end
end

return U
