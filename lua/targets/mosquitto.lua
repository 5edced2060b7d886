-- Target profile: plain Mosquitto (Debian 12: 2.0.11), a control with no PROXY support.
-- Its one listener is both "pp" and "plain": the suite sends PROXY headers to a broker that
-- cannot read them, so what the matrix shows for it is what "no support" looks like (every
-- header refused as a protocol error). No oracle: cases that need one skip, naming it.
-- Started in the foreground as a child (no systemd), on a free port of 127.0.0.1, readiness
-- polled with a deadline, stopped by PID, its temp dir removed.
local P = { name = "mosquitto" }

local MOSQUITTO = "/usr/sbin/mosquitto"

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

function P.start(h)
  local host = h.host
  if not host.is_executable(MOSQUITTO) then
    error(MOSQUITTO .. " not found: install the Debian package mosquitto", 0)
  end
  local dir = host.tmpdir("ppconform-mosquitto")
  local port = free_port(h.core)
  local addr = "127.0.0.1:" .. port
  local conf, log = dir .. "/mosquitto.conf", dir .. "/mosquitto.log"
  -- log_dest stderr: stdout is block-buffered into a file; no pid_file: it is written after
  -- dropping privileges and fails (interop.md §4); the PID is the one we spawned.
  host.write_file(conf, table.concat({
    "# written by ppconform for one run",
    "per_listener_settings false",
    "allow_anonymous true",
    "persistence false",
    "log_dest stderr",
    "log_type all",
    "connection_messages true",
    "listener " .. port .. " 127.0.0.1",
  }, "\n") .. "\n")
  local proc = host.spawn({ MOSQUITTO, "-c", conf }, { stdout = log, stderr = log })
  wait_listening(h, proc, addr, 10000, log)
  return {
    name = "mosquitto", version = "2.0", proc = proc, pid = proc.pid, dir = dir, log = log, keep = h.opts.keep,
    listeners = { pp = { address = addr, proxy = false }, plain = { address = addr, proxy = false } },
    capabilities = { ["listener.pp"] = true, ["listener.plain"] = true },
  }
end

function P.alive(state) return state.proc:alive() end

function P.stop(state, host)
  local how, crashed = state.proc:stop(5000)
  if not state.keep then host.rmtree(state.dir) end
  return how, crashed
end

return P
