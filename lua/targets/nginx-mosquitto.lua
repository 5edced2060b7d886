-- Target profile: nginx 1.22 (Debian 12) stream module terminating PROXY with
-- `listen ... proxy_protocol`, in front of Mosquitto 2.0.11 (no PROXY support). The PROXY
-- receiver under test is nginx; Mosquitto answers the MQTT behind it. Listeners: "pp"
-- (nginx, v1 and v2 auto-detected) and "plain" (Mosquitto directly). The header deadline is
-- proxy_protocol_timeout, set to 3 s here (nginx's default is 30 s) and declared as
-- proxy.header_timeout. nginx 1.22 has no TLV variables, so proxy.tlvs is not claimed.
-- No oracle: cases needing one skip. nginx runs as one process (daemon off, master_process
-- off) so stopping the PID we spawned leaves no worker behind; Mosquitto likewise; both on
-- free ports of 127.0.0.1, polled for readiness with deadlines, temp dir removed.
local P = { name = "nginx-mosquitto" }

local NGINX, MOSQUITTO = "/usr/sbin/nginx", "/usr/sbin/mosquitto"
local STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"
local HEADER_TIMEOUT = "3s"

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
  for _, bin in ipairs { NGINX, MOSQUITTO } do
    if not host.is_executable(bin) then error(bin .. " not found: install the Debian packages nginx, libnginx-mod-stream and mosquitto", 0) end
  end
  if not host.read_file(STREAM_MODULE) then error(STREAM_MODULE .. " not found: install the Debian package libnginx-mod-stream", 0) end
  local dir = host.tmpdir("ppconform-nginx-mosquitto")
  local mosq, mosq_addr = start_mosquitto(h, dir)
  local port = free_port(h.core)
  local addr = "127.0.0.1:" .. port
  local conf, log, errlog = dir .. "/nginx.conf", dir .. "/nginx.out", dir .. "/nginx-error.log"
  host.write_file(conf, table.concat({
    "# written by ppconform for one run",
    "load_module " .. STREAM_MODULE .. ";",
    "daemon off;",
    "master_process off;",
    "worker_processes 1;",
    "pid " .. dir .. "/nginx.pid;",
    "error_log " .. errlog .. " info;",
    "events { worker_connections 1024; }",
    "stream {",
    "    log_format pp 'conn=$remote_addr:$remote_port pp_src=$proxy_protocol_addr:$proxy_protocol_port '",
    "                  'pp_dst=$proxy_protocol_server_addr:$proxy_protocol_server_port status=$status';",
    "    access_log " .. dir .. "/nginx-access.log pp;",
    "    server {",
    "        listen " .. addr .. " proxy_protocol;",
    "        proxy_protocol_timeout " .. HEADER_TIMEOUT .. ";",
    "        proxy_timeout 60s;",
    "        proxy_pass " .. mosq_addr .. ";",
    "    }",
    "}",
  }, "\n") .. "\n")
  -- -e: the error log before the config is read (else /var/log/nginx/error.log)
  local proc = host.spawn({ NGINX, "-e", errlog, "-c", conf }, { stdout = log, stderr = log })
  local ok, err = pcall(wait_listening, h, proc, addr, 10000, errlog)
  if not ok then mosq:stop(3000); error(err, 0) end
  return {
    name = "nginx-mosquitto", version = "nginx 1.22 + mosquitto 2.0", proc = proc, mosquitto = mosq,
    pid = proc.pid, dir = dir, log = errlog, keep = h.opts.keep,
    listeners = { pp = { address = addr, proxy = true }, plain = { address = mosq_addr, proxy = false } },
    capabilities = {
      ["listener.pp"] = true, ["listener.plain"] = true,
      ["proxy.v1"] = true, ["proxy.v2"] = true,
      ["proxy.header_timeout"] = HEADER_TIMEOUT,
    },
  }
end

-- Either process gone is the target gone.
function P.alive(state)
  local ok, how, crashed = state.proc:alive()
  if not ok then return false, "nginx: " .. tostring(how), crashed end
  ok, how, crashed = state.mosquitto:alive()
  if not ok then return false, "mosquitto: " .. tostring(how), crashed end
  return true
end

function P.stop(state, host)
  local how, crashed = state.proc:stop(5000)
  local mhow, mcrashed = state.mosquitto:stop(5000)
  if not state.keep then host.rmtree(state.dir) end
  return ("nginx %s, mosquitto %s"):format(how, mhow), crashed or mcrashed
end

return P
