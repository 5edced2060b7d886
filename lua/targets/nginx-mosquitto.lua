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

local util = require "targets.util"

local NGINX, MOSQUITTO = "/usr/sbin/nginx", util.MOSQUITTO
local STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"
local HEADER_TIMEOUT = "3s"

function P.start(h)
  local host = h.host
  util.need_executables(host, { NGINX, MOSQUITTO }, "install the Debian packages nginx, libnginx-mod-stream and mosquitto")
  if not host.read_file(STREAM_MODULE) then error(STREAM_MODULE .. " not found: install the Debian package libnginx-mod-stream", 0) end
  local dir = host.tmpdir("ppconform-nginx-mosquitto")
  local mosq, mosq_addr = util.start_mosquitto(h, dir, P.name)
  local port = util.free_port(h.core)
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
  local ok, err = pcall(util.wait_listening, h, proc, addr, 10000, errlog, P.name)
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

util.child_processes(P, { { field = "proc", label = "nginx" }, { field = "mosquitto", label = "mosquitto" } })

return P
