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

local util = require "targets.util"

local HAPROXY, MOSQUITTO = "/usr/sbin/haproxy", util.MOSQUITTO
local HEADER_TIMEOUT = "5s"

function P.start(h)
  local host = h.host
  util.need_executables(host, { HAPROXY, MOSQUITTO }, "install the Debian packages haproxy and mosquitto")
  local dir = host.tmpdir("ppconform-haproxy-mosquitto")
  local mosq, mosq_addr = util.start_mosquitto(h, dir, P.name)
  local port = util.free_port(h.core)
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
  local ok, err = pcall(util.wait_listening, h, proc, addr, 10000, log, P.name)
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

util.child_processes(P, { { field = "proc", label = "haproxy" }, { field = "mosquitto", label = "mosquitto" } })

return P
