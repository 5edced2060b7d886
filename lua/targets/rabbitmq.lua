-- Target profile: RabbitMQ 3.10 (Debian 12 rabbitmq-server) with the rabbitmq_mqtt plugin and
-- `mqtt.proxy_protocol = true`: the only PROXY-aware MQTT broker packaged for Debian 12.
-- Runs without systemd and without the /usr/sbin wrapper (which su's to rabbitmq and logs
-- under /var): the server script from /usr/lib/rabbitmq is started (host.spawn env=) with
-- its own RABBITMQ_* environment, HOME (the Erlang cookie), mnesia, logs and config in a temp
-- dir. RUNNING_UNDER_SYSTEMD makes that script exec the Erlang VM, so the PID we spawned is
-- the VM's (SIGTERM is a clean shutdown); epmd is started by hand on loopback so it too is
-- stopped by PID. Every listener is on a free port of 127.0.0.1: MQTT ("pp"), AMQP,
-- distribution, epmd, management HTTP. Readiness: the MQTT and management ports accept
-- connections (RabbitMQ needs 9-26 s). The PROXY header timeout is RabbitMQ's hard-coded 3 s.
-- PROXY is global for the MQTT listener, so there is no "plain" listener.
-- Oracle ("oracle.sessions"): the rabbitmq_management plugin's GET /api/connections, read by
-- targets/lib/rabbitmq_oracle.lua (client id, username, and the source RabbitMQ attributed
-- the session to). Its stats collector samples every second (the minimum, set below), so a
-- new session shows up within ~1 s. RabbitMQ exposes neither the real socket peer nor
-- per-connection PROXY outcomes, so "oracle.events" is not claimed (those cases skip).
local P = { name = "rabbitmq" }

local util = require "targets.util"
local rabbitmq_oracle = require "targets.rabbitmq_oracle"

local VERSION = "3.10.8"
local SBIN = "/usr/lib/rabbitmq/lib/rabbitmq_server-" .. VERSION .. "/sbin"
local EPMD = "/usr/bin/epmd"
local START_MS = 28000 -- the runner gives start() 30 s (times --timeout-scale)

function P.start(h)
  local host, core = h.host, h.core
  util.need_executables(host, { SBIN .. "/rabbitmq-server", EPMD },
                         "install the Debian package rabbitmq-server (" .. VERSION .. ")")
  local dir = host.tmpdir("ppconform-rabbitmq")
  local mqtt, amqp, dist, epmd_port = util.free_port(core), util.free_port(core), util.free_port(core), util.free_port(core)
  local mgmt_port = util.free_port(core)
  local addr, mgmt = "127.0.0.1:" .. mqtt, "127.0.0.1:" .. mgmt_port
  local conf = dir .. "/rabbitmq.conf"
  host.write_file(conf, table.concat({
    "# written by ppconform for one run",
    "listeners.tcp.default = 127.0.0.1:" .. amqp,
    "mqtt.listeners.tcp.default = " .. addr,
    "mqtt.proxy_protocol = true",
    "mqtt.allow_anonymous = true",
    "mqtt.default_user = guest",
    "mqtt.default_pass = guest",
    "mqtt.vhost = /",
    "mqtt.exchange = amq.topic",
    "log.console = true",
    "log.console.level = info",
    "log.file.level = info",
    -- the oracle: management HTTP on loopback (guest may log in from there); the collector
    -- copies new connections into /api/connections once per smallest sample interval, so
    -- every policy gets RabbitMQ's minimum, 1 s (a policy left out stops its collector)
    "management.tcp.ip = 127.0.0.1",
    "management.tcp.port = " .. mgmt_port,
    "management.rates_mode = none",
    "management.sample_retention_policies.global.minute = 1",
    "management.sample_retention_policies.basic.minute = 1",
    "management.sample_retention_policies.detailed.minute = 1",
  }, "\n") .. "\n")
  host.write_file(dir .. "/enabled_plugins", "[rabbitmq_mqtt,rabbitmq_management].\n")
  local env = { -- added to our environment for epmd and the server
    "HOME=" .. dir,
    "RABBITMQ_CONFIG_FILE=" .. conf,
    "RABBITMQ_ENABLED_PLUGINS_FILE=" .. dir .. "/enabled_plugins",
    "RABBITMQ_MNESIA_BASE=" .. dir .. "/mnesia",
    "RABBITMQ_LOG_BASE=" .. dir .. "/log",
    "RABBITMQ_PID_FILE=" .. dir .. "/rabbit.pid",
    "RABBITMQ_NODENAME=ppconform@localhost",
    "RABBITMQ_DIST_PORT=" .. dist,
    "ERL_EPMD_ADDRESS=127.0.0.1",
    "ERL_EPMD_PORT=" .. epmd_port,
    "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}",
    "RABBITMQ_CTL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}",
    "RUNNING_UNDER_SYSTEMD=true",
  }
  local epmd_log, log = dir .. "/epmd.log", dir .. "/rabbitmq.log"
  local epmd = host.spawn({ EPMD, "-address", "127.0.0.1", "-port", tostring(epmd_port) },
                          { stdout = epmd_log, stderr = epmd_log, env = env })
  local ok, err = pcall(util.wait_listening, h, epmd, "127.0.0.1:" .. epmd_port, 5000, epmd_log, P.name)
  if not ok then error("epmd: " .. err, 0) end
  local proc = host.spawn({ SBIN .. "/rabbitmq-server" }, { stdout = log, stderr = log, env = env })
  local started = core.now()
  ok, err = pcall(util.wait_listening, h, proc, addr, START_MS, log, P.name)
  if ok then
    local left = START_MS - math.floor((core.now() - started) / (h.opts.scale or 1))
    ok, err = pcall(util.wait_listening, h, proc, mgmt, math.max(left, 2000), log, P.name .. " management")
  end
  -- the first API queries after boot load code: seen taking over 3 s on a busy machine,
  -- so the oracle is asked once here, with room, before any case relies on it
  local oracle = rabbitmq_oracle.new(h, mgmt)
  if ok then ok, err = pcall(oracle.wait_ready, oracle, 15000) end
  if not ok then
    if proc:alive() then proc:stop(15000) end
    epmd:stop(2000); error(err, 0)
  end
  return {
    name = "rabbitmq", version = "rabbitmq " .. VERSION, proc = proc, epmd = epmd, pid = proc.pid, dir = dir,
    log = log, keep = h.opts.keep, management = mgmt,
    listeners = { pp = { address = addr, proxy = true } },
    capabilities = {
      ["listener.pp"] = true, ["proxy.v1"] = true, ["proxy.v2"] = true, ["proxy.tlvs"] = true,
      ["proxy.crc32c"] = true, ["proxy.header_timeout"] = "3s", ["oracle.sessions"] = true,
    },
    oracle = oracle,
  }
end

function P.alive(state)
  local ok, how, crashed = state.proc:alive()
  if not ok then return false, "rabbitmq: " .. tostring(how), crashed end
  return true
end

-- The VM shuts down cleanly on SIGTERM (a few seconds); then epmd.
function P.stop(state, host)
  local how, crashed = state.proc:stop(15000)
  local ehow = state.epmd:stop(3000)
  if not state.keep then host.rmtree(state.dir) end
  return ("rabbitmq %s, epmd %s"):format(how, ehow), crashed
end

return P
